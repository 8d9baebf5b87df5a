using System.Collections.Immutable;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Schema;

// The session-layer service schema of spec.md §3 as immutable records. Each record writes its boxed
// form; reading goes through ServiceSchema.TryRead (one dispatch on the constructor id). Field names
// follow the TL names.

/// <summary>rpc_result#f35c6d01 req_msg_id:long result:Object. <see cref="Result"/> is the boxed result object.</summary>
public sealed record RpcResult(long ReqMsgId, ImmutableArray<byte> Result) : TlObject
{
    public override uint ConstructorId => ConstructorIds.RpcResult;

    public override void WriteTo(TlWriter writer) => Write(writer, ReqMsgId, Result.AsSpan());

    /// <summary>Writes rpc_result around an already serialized result object.</summary>
    public static void Write(TlWriter writer, long reqMsgId, ReadOnlySpan<byte> result)
    {
        WriteHeader(writer, reqMsgId);
        writer.WriteRaw(result);
    }

    /// <summary>Writes the constructor id and req_msg_id; the caller then writes the result object itself.</summary>
    public static void WriteHeader(TlWriter writer, long reqMsgId)
    {
        writer.WriteUInt32(ConstructorIds.RpcResult);
        writer.WriteInt64(reqMsgId);
    }

    /// <summary>The result is the rest of the reader's buffer (rpc_result is always a whole message body).</summary>
    internal static RpcResult ReadBody(ref TlReader r)
    {
        long reqMsgId = r.ReadInt64();
        var result = r.ReadRest();
        if (r.Ok && result.Length < 4) r.Fail(TlError.Truncated);
        return new RpcResult(reqMsgId, r.Ok ? Seq.Copy(result) : []);
    }

    public bool Equals(RpcResult? other) => other is not null && ReqMsgId == other.ReqMsgId && Seq.Equal(Result, other.Result);
    public override int GetHashCode() => HashCode.Combine(ReqMsgId, Seq.Hash(Result));
}

/// <summary>rpc_error#2144ca19 error_code:int error_message:string (inside rpc_result).</summary>
public sealed record RpcError(int ErrorCode, string ErrorMessage) : TlObject
{
    public override uint ConstructorId => ConstructorIds.RpcError;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt32(ErrorCode);
        writer.WriteString(ErrorMessage);
    }

    internal static RpcError ReadBody(ref TlReader r) => new(r.ReadInt32(), r.ReadString());
}

/// <summary>rpc_drop_answer#58e4a740 req_msg_id:long (function; answered inside rpc_result).</summary>
public sealed record RpcDropAnswer(long ReqMsgId) : TlObject
{
    public override uint ConstructorId => ConstructorIds.RpcDropAnswer;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(ReqMsgId);
    }
}

/// <summary>rpc_answer_unknown#5e2ad36e: nothing is known about the query.</summary>
public sealed record RpcAnswerUnknown : TlObject
{
    public static readonly RpcAnswerUnknown Instance = new();
    public override uint ConstructorId => ConstructorIds.RpcAnswerUnknown;
    public override void WriteTo(TlWriter writer) => writer.WriteUInt32(ConstructorId);
}

/// <summary>rpc_answer_dropped_running#cd78e586: the query was running; its answer is dropped.</summary>
public sealed record RpcAnswerDroppedRunning : TlObject
{
    public static readonly RpcAnswerDroppedRunning Instance = new();
    public override uint ConstructorId => ConstructorIds.RpcAnswerDroppedRunning;
    public override void WriteTo(TlWriter writer) => writer.WriteUInt32(ConstructorId);
}

/// <summary>rpc_answer_dropped#a43ad8b7 msg_id:long seq_no:int bytes:int: the answer was removed from the out-queue.</summary>
public sealed record RpcAnswerDropped(long MsgId, int SeqNo, int Bytes) : TlObject
{
    public override uint ConstructorId => ConstructorIds.RpcAnswerDropped;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(MsgId);
        writer.WriteInt32(SeqNo);
        writer.WriteInt32(Bytes);
    }
}

/// <summary>get_future_salts#b921bd04 num:int (function; answered by a raw future_salts).</summary>
public sealed record GetFutureSalts(int Num) : TlObject
{
    /// <summary>The most salts a server returns for one request.</summary>
    public const int MaxNum = 64;

    public override uint ConstructorId => ConstructorIds.GetFutureSalts;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt32(Num);
    }
}

/// <summary>future_salt valid_since:int valid_until:int salt:long — always bare (16 bytes, no constructor id).</summary>
public readonly record struct FutureSalt(int ValidSince, int ValidUntil, long Salt)
{
    public const int Size = 16;

    public void WriteBare(TlWriter writer)
    {
        writer.WriteInt32(ValidSince);
        writer.WriteInt32(ValidUntil);
        writer.WriteInt64(Salt);
    }

    public static FutureSalt ReadBare(ref TlReader r) => new(r.ReadInt32(), r.ReadInt32(), r.ReadInt64());
}

/// <summary>future_salts#ae500895 req_msg_id:long now:int salts:vector&lt;future_salt&gt; (bare vector of bare items).</summary>
public sealed record FutureSalts(long ReqMsgId, int Now, ImmutableArray<FutureSalt> Salts) : TlObject
{
    public override uint ConstructorId => ConstructorIds.FutureSalts;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(ReqMsgId);
        writer.WriteInt32(Now);
        writer.WriteInt32(Salts.Length);
        foreach (var salt in Salts.AsSpan()) salt.WriteBare(writer);
    }

    internal static FutureSalts ReadBody(ref TlReader r)
    {
        long reqMsgId = r.ReadInt64();
        int now = r.ReadInt32();
        int count = r.ReadBareVectorCount(FutureSalt.Size);
        var salts = new FutureSalt[count];
        for (int i = 0; i < count; i++) salts[i] = FutureSalt.ReadBare(ref r);
        return new FutureSalts(reqMsgId, now, r.Ok ? Seq.Own(salts) : []);
    }

    public bool Equals(FutureSalts? other) =>
        other is not null && ReqMsgId == other.ReqMsgId && Now == other.Now && Seq.Equal(Salts, other.Salts);
    public override int GetHashCode() => HashCode.Combine(ReqMsgId, Now, Seq.Hash(Salts));
}

/// <summary>ping#7abe77ec ping_id:long (function; answered by a raw pong).</summary>
public sealed record Ping(long PingId) : TlObject
{
    public override uint ConstructorId => ConstructorIds.Ping;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(PingId);
    }
}

/// <summary>ping_delay_disconnect#f3427b8c ping_id:long disconnect_delay:int (seconds).</summary>
public sealed record PingDelayDisconnect(long PingId, int DisconnectDelay) : TlObject
{
    public override uint ConstructorId => ConstructorIds.PingDelayDisconnect;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(PingId);
        writer.WriteInt32(DisconnectDelay);
    }
}

/// <summary>pong#347773c5 msg_id:long ping_id:long; msg_id is the msg_id of the ping message.</summary>
public sealed record Pong(long MsgId, long PingId) : TlObject
{
    public override uint ConstructorId => ConstructorIds.Pong;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(MsgId);
        writer.WriteInt64(PingId);
    }
}

/// <summary>destroy_session#e7512126 session_id:long (function; answered raw).</summary>
public sealed record DestroySession(long SessionId) : TlObject
{
    public override uint ConstructorId => ConstructorIds.DestroySession;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(SessionId);
    }
}

/// <summary>destroy_session_ok#e22045fc session_id:long: the session existed and is destroyed.</summary>
public sealed record DestroySessionOk(long SessionId) : TlObject
{
    public override uint ConstructorId => ConstructorIds.DestroySessionOk;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(SessionId);
    }
}

/// <summary>destroy_session_none#62d350c9 session_id:long: no such session.</summary>
public sealed record DestroySessionNone(long SessionId) : TlObject
{
    public override uint ConstructorId => ConstructorIds.DestroySessionNone;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(SessionId);
    }
}

/// <summary>new_session_created#9ec20908 first_msg_id:long unique_id:long server_salt:long.</summary>
public sealed record NewSessionCreated(long FirstMsgId, long UniqueId, long ServerSalt) : TlObject
{
    public override uint ConstructorId => ConstructorIds.NewSessionCreated;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(FirstMsgId);
        writer.WriteInt64(UniqueId);
        writer.WriteInt64(ServerSalt);
    }
}

/// <summary>destroy_auth_key#d1435160 (function; answered raw).</summary>
public sealed record DestroyAuthKey : TlObject
{
    public static readonly DestroyAuthKey Instance = new();
    public override uint ConstructorId => ConstructorIds.DestroyAuthKey;
    public override void WriteTo(TlWriter writer) => writer.WriteUInt32(ConstructorId);
}

/// <summary>destroy_auth_key_ok#f660e1d4: the key was deleted.</summary>
public sealed record DestroyAuthKeyOk : TlObject
{
    public static readonly DestroyAuthKeyOk Instance = new();
    public override uint ConstructorId => ConstructorIds.DestroyAuthKeyOk;
    public override void WriteTo(TlWriter writer) => writer.WriteUInt32(ConstructorId);
}

/// <summary>destroy_auth_key_none#0a9f2259: no such key.</summary>
public sealed record DestroyAuthKeyNone : TlObject
{
    public static readonly DestroyAuthKeyNone Instance = new();
    public override uint ConstructorId => ConstructorIds.DestroyAuthKeyNone;
    public override void WriteTo(TlWriter writer) => writer.WriteUInt32(ConstructorId);
}

/// <summary>destroy_auth_key_fail#ea109b13: the key could not be deleted.</summary>
public sealed record DestroyAuthKeyFail : TlObject
{
    public static readonly DestroyAuthKeyFail Instance = new();
    public override uint ConstructorId => ConstructorIds.DestroyAuthKeyFail;
    public override void WriteTo(TlWriter writer) => writer.WriteUInt32(ConstructorId);
}

/// <summary>msgs_ack#62d6b459 msg_ids:Vector&lt;long&gt;.</summary>
public sealed record MsgsAck(ImmutableArray<long> MsgIds) : TlObject
{
    public override uint ConstructorId => ConstructorIds.MsgsAck;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteLongVector(MsgIds.AsSpan());
    }

    public bool Equals(MsgsAck? other) => other is not null && Seq.Equal(MsgIds, other.MsgIds);
    public override int GetHashCode() => Seq.Hash(MsgIds);
}

/// <summary>bad_msg_notification#a7eff811 bad_msg_id:long bad_msg_seqno:int error_code:int (codes: <see cref="Messages.BadMsgCode"/>).</summary>
public sealed record BadMsgNotification(long BadMsgId, int BadMsgSeqNo, int ErrorCode) : TlObject
{
    public override uint ConstructorId => ConstructorIds.BadMsgNotification;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(BadMsgId);
        writer.WriteInt32(BadMsgSeqNo);
        writer.WriteInt32(ErrorCode);
    }
}

/// <summary>bad_server_salt#edab447b bad_msg_id:long bad_msg_seqno:int error_code:int (48) new_server_salt:long.</summary>
public sealed record BadServerSalt(long BadMsgId, int BadMsgSeqNo, int ErrorCode, long NewServerSalt) : TlObject
{
    public override uint ConstructorId => ConstructorIds.BadServerSalt;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(BadMsgId);
        writer.WriteInt32(BadMsgSeqNo);
        writer.WriteInt32(ErrorCode);
        writer.WriteInt64(NewServerSalt);
    }
}

/// <summary>msg_resend_req#7d861a08 msg_ids:Vector&lt;long&gt;.</summary>
public sealed record MsgResendReq(ImmutableArray<long> MsgIds) : TlObject
{
    public override uint ConstructorId => ConstructorIds.MsgResendReq;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteLongVector(MsgIds.AsSpan());
    }

    public bool Equals(MsgResendReq? other) => other is not null && Seq.Equal(MsgIds, other.MsgIds);
    public override int GetHashCode() => Seq.Hash(MsgIds);
}

/// <summary>msgs_state_req#da69fb52 msg_ids:Vector&lt;long&gt; (answered by a raw msgs_state_info).</summary>
public sealed record MsgsStateReq(ImmutableArray<long> MsgIds) : TlObject
{
    public override uint ConstructorId => ConstructorIds.MsgsStateReq;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteLongVector(MsgIds.AsSpan());
    }

    public bool Equals(MsgsStateReq? other) => other is not null && Seq.Equal(MsgIds, other.MsgIds);
    public override int GetHashCode() => Seq.Hash(MsgIds);
}

/// <summary>msgs_state_info#04deb57d req_msg_id:long info:string (one status byte per requested id).</summary>
public sealed record MsgsStateInfo(long ReqMsgId, ImmutableArray<byte> Info) : TlObject
{
    public override uint ConstructorId => ConstructorIds.MsgsStateInfo;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(ReqMsgId);
        writer.WriteBytes(Info.AsSpan());
    }

    public bool Equals(MsgsStateInfo? other) => other is not null && ReqMsgId == other.ReqMsgId && Seq.Equal(Info, other.Info);
    public override int GetHashCode() => HashCode.Combine(ReqMsgId, Seq.Hash(Info));
}

/// <summary>msgs_all_info#8cc0d131 msg_ids:Vector&lt;long&gt; info:string.</summary>
public sealed record MsgsAllInfo(ImmutableArray<long> MsgIds, ImmutableArray<byte> Info) : TlObject
{
    public override uint ConstructorId => ConstructorIds.MsgsAllInfo;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteLongVector(MsgIds.AsSpan());
        writer.WriteBytes(Info.AsSpan());
    }

    public bool Equals(MsgsAllInfo? other) => other is not null && Seq.Equal(MsgIds, other.MsgIds) && Seq.Equal(Info, other.Info);
    public override int GetHashCode() => HashCode.Combine(Seq.Hash(MsgIds), Seq.Hash(Info));
}

/// <summary>msg_detailed_info#276d3ec6 msg_id:long answer_msg_id:long bytes:int status:int (reply to a duplicate query).</summary>
public sealed record MsgDetailedInfo(long MsgId, long AnswerMsgId, int Bytes, int Status) : TlObject
{
    public override uint ConstructorId => ConstructorIds.MsgDetailedInfo;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(MsgId);
        writer.WriteInt64(AnswerMsgId);
        writer.WriteInt32(Bytes);
        writer.WriteInt32(Status);
    }
}

/// <summary>msg_new_detailed_info#809db6df answer_msg_id:long bytes:int status:int.</summary>
public sealed record MsgNewDetailedInfo(long AnswerMsgId, int Bytes, int Status) : TlObject
{
    public override uint ConstructorId => ConstructorIds.MsgNewDetailedInfo;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt64(AnswerMsgId);
        writer.WriteInt32(Bytes);
        writer.WriteInt32(Status);
    }
}

/// <summary>http_wait#9299359f max_delay:int wait_after:int max_wait:int (milliseconds; HTTP transport only).</summary>
public sealed record HttpWait(int MaxDelay, int WaitAfter, int MaxWait) : TlObject
{
    public override uint ConstructorId => ConstructorIds.HttpWait;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteInt32(MaxDelay);
        writer.WriteInt32(WaitAfter);
        writer.WriteInt32(MaxWait);
    }
}
