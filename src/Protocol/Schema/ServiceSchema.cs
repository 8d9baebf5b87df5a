using System.Diagnostics.CodeAnalysis;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Schema;

/// <summary>
/// Reads any object of the session-layer service schema (spec.md §3) by its constructor id.
/// Objects outside that schema (API queries, wrappers, handshake constructors) fail with
/// <see cref="TlError.UnknownConstructor"/>; use <see cref="IsServiceConstructor"/> to decide first.
/// </summary>
public static class ServiceSchema
{
    /// <summary>The most msg_ids a msgs_ack, msg_resend_req, msgs_state_req or msgs_all_info may carry.</summary>
    public const int MaxMsgIds = 8192;

    /// <summary>
    /// Reads one boxed service object. <see cref="RpcResult"/> takes the rest of the reader's buffer as its
    /// result, so give it a reader over exactly one message body. Container and msg_copy items are kept as bytes
    /// (not parsed). On failure <paramref name="value"/> is null and <see cref="TlReader.Error"/> tells why.
    /// </summary>
    public static bool TryRead(ref TlReader r, [NotNullWhen(true)] out TlObject? value)
    {
        value = null;
        uint id = r.ReadUInt32();
        if (!r.Ok) return false;
        TlObject? result = id switch
        {
            ConstructorIds.RpcResult => RpcResult.ReadBody(ref r),
            ConstructorIds.RpcError => RpcError.ReadBody(ref r),
            ConstructorIds.RpcDropAnswer => new RpcDropAnswer(r.ReadInt64()),
            ConstructorIds.RpcAnswerUnknown => RpcAnswerUnknown.Instance,
            ConstructorIds.RpcAnswerDroppedRunning => RpcAnswerDroppedRunning.Instance,
            ConstructorIds.RpcAnswerDropped => new RpcAnswerDropped(r.ReadInt64(), r.ReadInt32(), r.ReadInt32()),
            ConstructorIds.GetFutureSalts => new GetFutureSalts(r.ReadInt32()),
            ConstructorIds.FutureSalts => FutureSalts.ReadBody(ref r),
            ConstructorIds.Ping => new Ping(r.ReadInt64()),
            ConstructorIds.PingDelayDisconnect => new PingDelayDisconnect(r.ReadInt64(), r.ReadInt32()),
            ConstructorIds.Pong => new Pong(r.ReadInt64(), r.ReadInt64()),
            ConstructorIds.DestroySession => new DestroySession(r.ReadInt64()),
            ConstructorIds.DestroySessionOk => new DestroySessionOk(r.ReadInt64()),
            ConstructorIds.DestroySessionNone => new DestroySessionNone(r.ReadInt64()),
            ConstructorIds.NewSessionCreated => new NewSessionCreated(r.ReadInt64(), r.ReadInt64(), r.ReadInt64()),
            ConstructorIds.DestroyAuthKey => DestroyAuthKey.Instance,
            ConstructorIds.DestroyAuthKeyOk => DestroyAuthKeyOk.Instance,
            ConstructorIds.DestroyAuthKeyNone => DestroyAuthKeyNone.Instance,
            ConstructorIds.DestroyAuthKeyFail => DestroyAuthKeyFail.Instance,
            ConstructorIds.MsgContainer => MsgContainer.ReadBody(ref r),
            ConstructorIds.MsgCopy => MsgCopy.ReadBody(ref r),
            ConstructorIds.GzipPacked => GzipPacked.ReadBody(ref r),
            ConstructorIds.MsgsAck => new MsgsAck(ReadMsgIds(ref r)),
            ConstructorIds.BadMsgNotification => new BadMsgNotification(r.ReadInt64(), r.ReadInt32(), r.ReadInt32()),
            ConstructorIds.BadServerSalt => new BadServerSalt(r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadInt64()),
            ConstructorIds.MsgResendReq => new MsgResendReq(ReadMsgIds(ref r)),
            ConstructorIds.MsgsStateReq => new MsgsStateReq(ReadMsgIds(ref r)),
            ConstructorIds.MsgsStateInfo => new MsgsStateInfo(r.ReadInt64(), Seq.Own(r.ReadBytesArray())),
            ConstructorIds.MsgsAllInfo => new MsgsAllInfo(ReadMsgIds(ref r), Seq.Own(r.ReadBytesArray())),
            ConstructorIds.MsgDetailedInfo => new MsgDetailedInfo(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32()),
            ConstructorIds.MsgNewDetailedInfo => new MsgNewDetailedInfo(r.ReadInt64(), r.ReadInt32(), r.ReadInt32()),
            ConstructorIds.HttpWait => new HttpWait(r.ReadInt32(), r.ReadInt32(), r.ReadInt32()),
            _ => null,
        };
        if (result is null && r.Ok) r.Fail(TlError.UnknownConstructor);
        if (!r.Ok) return false;
        value = result!;
        return true;
    }

    /// <summary>Reads one boxed service object of type <typeparamref name="T"/>; another known type fails with <see cref="TlError.UnexpectedConstructor"/>.</summary>
    public static bool TryRead<T>(ref TlReader r, [NotNullWhen(true)] out T? value) where T : TlObject
    {
        value = null;
        if (!TryRead(ref r, out var obj)) return false;
        if (obj is T typed)
        {
            value = typed;
            return true;
        }
        r.Fail(TlError.UnexpectedConstructor);
        return false;
    }

    /// <summary>Reads one boxed service object that must fill <paramref name="data"/> exactly.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, [NotNullWhen(true)] out TlObject? value, out TlError error)
    {
        var r = new TlReader(data);
        if (TryRead(ref r, out value)) r.ExpectEnd();
        error = r.Error;
        if (!r.Ok) value = null;
        return r.Ok;
    }

    private static System.Collections.Immutable.ImmutableArray<long> ReadMsgIds(ref TlReader r)
    {
        // Peek the count first so an over-long list fails as TooManyItems before anything is allocated.
        var peek = r;
        if (peek.ReadUInt32() == TlReader.VectorId && peek.ReadInt32() > MaxMsgIds && peek.Ok)
        {
            r.Fail(TlError.TooManyItems);
            return [];
        }
        return Seq.ReadLongs(ref r);
    }

    /// <summary>Whether <paramref name="constructorId"/> belongs to the session-layer service schema (spec.md §3).</summary>
    public static bool IsServiceConstructor(uint constructorId) => constructorId switch
    {
        ConstructorIds.RpcResult or ConstructorIds.RpcError or ConstructorIds.RpcDropAnswer
            or ConstructorIds.RpcAnswerUnknown or ConstructorIds.RpcAnswerDroppedRunning or ConstructorIds.RpcAnswerDropped
            or ConstructorIds.GetFutureSalts or ConstructorIds.FutureSalts
            or ConstructorIds.Ping or ConstructorIds.PingDelayDisconnect or ConstructorIds.Pong
            or ConstructorIds.DestroySession or ConstructorIds.DestroySessionOk or ConstructorIds.DestroySessionNone
            or ConstructorIds.NewSessionCreated
            or ConstructorIds.DestroyAuthKey or ConstructorIds.DestroyAuthKeyOk or ConstructorIds.DestroyAuthKeyNone
            or ConstructorIds.DestroyAuthKeyFail
            or ConstructorIds.MsgContainer or ConstructorIds.MsgCopy or ConstructorIds.GzipPacked
            or ConstructorIds.MsgsAck or ConstructorIds.BadMsgNotification or ConstructorIds.BadServerSalt
            or ConstructorIds.MsgResendReq or ConstructorIds.MsgsStateReq or ConstructorIds.MsgsStateInfo
            or ConstructorIds.MsgsAllInfo or ConstructorIds.MsgDetailedInfo or ConstructorIds.MsgNewDetailedInfo
            or ConstructorIds.HttpWait => true,
        _ => false,
    };
}
