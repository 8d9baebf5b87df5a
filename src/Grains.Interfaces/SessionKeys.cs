using System.Buffers.Binary;

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

    public static ISessionGrain GetSessionGrain(this IGrainFactory grains, long authKeyId, long sessionId) =>
        grains.GetGrain<ISessionGrain>(ToGuid(authKeyId, sessionId));

    public static IAuthKeyGrain GetAuthKeyGrain(this IGrainFactory grains, long authKeyId) =>
        grains.GetGrain<IAuthKeyGrain>(authKeyId);
}
