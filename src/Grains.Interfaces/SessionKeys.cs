using System.Buffers.Binary;
using Orleans.Runtime;

namespace MtActors.Grains;

/// <summary>
/// Session grain ids. A session is identified by (auth_key_id, session_id): both are packed into the
/// grain's Guid key, auth_key_id in bytes 0..8 and session_id in bytes 8..16, little-endian. The
/// Guid's byte form is exactly that, so the storage row's grainidn0 / grainidn1 columns are the
/// auth_key_id and session_id themselves (easy to query), and a session id of another auth key is a
/// different grain: a session can only ever be reached through its own key.
/// </summary>
public static class SessionKeys
{
    public static Guid ToGuid(long authKeyId, long sessionId)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, authKeyId);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[8..], sessionId);
        return new Guid(bytes);
    }

    public static (long AuthKeyId, long SessionId) FromGuid(Guid key)
    {
        Span<byte> bytes = stackalloc byte[16];
        key.TryWriteBytes(bytes);
        return (BinaryPrimitives.ReadInt64LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]));
    }

    // IGrainFactory.GetGrain<T>(key) resolves T's grain interface type from its attributes (reflection) on every call;
    // that was about 4 % of the CPU of a session create + destroy cycle (four references per cycle). The grain type
    // and interface type of each interface are the same for every factory of the process: the first reference made
    // the usual way gives them, later ones are built from the grain id directly.
    private static ReferenceShape? s_session;
    private static ReferenceShape? s_authKey;

    private sealed record ReferenceShape(GrainType GrainType, GrainInterfaceType InterfaceType);

    public static ISessionGrain GetSessionGrain(this IGrainFactory grains, long authKeyId, long sessionId) =>
        Reference<ISessionGrain>(grains, ref s_session, GrainIdKeyExtensions.CreateGuidKey(ToGuid(authKeyId, sessionId)));

    public static IAuthKeyGrain GetAuthKeyGrain(this IGrainFactory grains, long authKeyId) =>
        Reference<IAuthKeyGrain>(grains, ref s_authKey, GrainIdKeyExtensions.CreateIntegerKey(authKeyId));

    private static T Reference<T>(IGrainFactory grains, ref ReferenceShape? shape, IdSpan key) where T : IAddressable
    {
        ArgumentNullException.ThrowIfNull(grains);
        if (shape is { } known)
        {
            return (T)grains.GetGrain(GrainId.Create(known.GrainType, key), known.InterfaceType);
        }

        var grain = (T)grains.GetGrain(typeof(T), key); // what GetGrain<T>(key) does, interface lookup included
        shape = ShapeOf(grain);
        return grain;
    }

    // Only real references are remembered (a test double of IGrainFactory may hand out anything).
    private static ReferenceShape? ShapeOf(object grain) =>
        grain is GrainReference reference ? new ReferenceShape(reference.GrainId.Type, reference.InterfaceType) : null;
}
