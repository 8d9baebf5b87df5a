namespace MtActors.Grains.Sessions;

/// <summary>
/// The persisted form of a session (one row, state name "session"). Written as an immutable snapshot:
/// a new instance per write, never mutated after it is handed to the storage provider.
/// Orleans binary serializer: fields are identified by [Id], so fields can be added later and old
/// rows still read (unknown ids are skipped, missing ones keep their defaults).
/// </summary>
[GenerateSerializer, Alias("mtactors.SessionState")]
public sealed class SessionState
{
    /// <summary>unique_id announced in new_session_created.</summary>
    [Id(0)] public long UniqueId { get; init; }
    [Id(1)] public DateTimeOffset CreatedAt { get; init; }
    [Id(2)] public DateTimeOffset LastActivityAt { get; init; }
    /// <summary>first_msg_id announced in new_session_created (lowered when an even lower id arrives).</summary>
    [Id(3)] public long FirstMsgId { get; init; }
    /// <summary>Recent accepted client msg_ids, ascending (at most the window size).</summary>
    [Id(4)] public long[] RecentClientMsgIds { get; init; } = [];
    /// <summary>The seq_nos of <see cref="RecentClientMsgIds"/>, index by index (for the 32/33 order checks).</summary>
    [Id(11)] public int[] RecentClientSeqNos { get; init; } = [];
    /// <summary>The highest msg_id pushed out of the window (and its seq_no): at or below it, 20.</summary>
    [Id(12)] public long ClientFloorMsgId { get; init; }
    [Id(13)] public int ClientFloorSeqNo { get; init; }
    /// <summary>Greatest client msg_id ever accepted.</summary>
    [Id(5)] public long ClientHighWater { get; init; }
    /// <summary>Unknown zone: a client msg_id at or below this that is not in the window is "too old to tell" (20).</summary>
    [Id(6)] public long ClientUnknownUpTo { get; init; }
    /// <summary>
    /// Replay reservation: every client msg_id an activation accepted without writing it is at or below
    /// this value. 0 after a clean deactivation (everything accepted is in the row).
    /// </summary>
    [Id(7)] public long ClientReservedUpTo { get; init; }
    /// <summary>Greatest server msg_id actually written down (exact after a clean deactivation).</summary>
    [Id(8)] public long ServerLastMsgId { get; init; }
    /// <summary>Server msg_id floor: no server msg_id above this was ever handed out.</summary>
    [Id(9)] public long ServerReservedUpTo { get; init; }
    /// <summary>Content-related messages sent so far (the seq_no counter).</summary>
    [Id(10)] public int ContentMessagesSent { get; init; }
    /// <summary>The last invokeWithLayer layer the client sent (0: none yet).</summary>
    [Id(14)] public int Layer { get; init; }
    /// <summary>The last initConnection the client sent (null: none yet).</summary>
    [Id(15)] public SessionConnectionInfo? Connection { get; init; }
    /// <summary>
    /// Unacknowledged content-related messages kept for re-sending. Written by the final (clean deactivation)
    /// write only; background writes leave it empty, so a crash loses it (see docs/session-semantics.md).
    /// </summary>
    [Id(16)] public UnackedMessage[] Unacked { get; init; } = [];
    /// <summary>Answered queries still in the msg_id window (duplicates, rpc_drop_answer, msgs_state_req). Final write only.</summary>
    [Id(17)] public AnsweredQuery[] Answers { get; init; } = [];
    /// <summary>
    /// Random per write (set by the grain just before the write): tells an activation whether a write whose outcome
    /// it could not see (the database went away mid-commit) is the row's last one.
    /// </summary>
    [Id(18)] public long WriteToken { get; set; }
}

/// <summary>initConnection's fields, as the session keeps them (small; written with the session).</summary>
[GenerateSerializer, Alias("mtactors.SessionConnectionInfo")]
public sealed class SessionConnectionInfo
{
    [Id(0)] public int ApiId { get; init; }
    [Id(1)] public string DeviceModel { get; init; } = "";
    [Id(2)] public string SystemVersion { get; init; } = "";
    [Id(3)] public string AppVersion { get; init; } = "";
    [Id(4)] public string SystemLangCode { get; init; } = "";
    [Id(5)] public string LangPack { get; init; } = "";
    [Id(6)] public string LangCode { get; init; } = "";
    [Id(7)] public string? ProxyAddress { get; init; }
    [Id(8)] public int ProxyPort { get; init; }
    /// <summary>initConnection's params (JSONValue) as JSON text, or null.</summary>
    [Id(9)] public string? ParamsJson { get; init; }
}

/// <summary>A content-related server message not acknowledged yet.</summary>
[GenerateSerializer, Alias("mtactors.UnackedMessage")]
public sealed class UnackedMessage
{
    [Id(0)] public long MsgId { get; init; }
    [Id(1)] public int SeqNo { get; init; }
    [Id(2)] public byte[] Body { get; init; } = [];
    /// <summary>For an rpc_result: the client msg_id it answers; else 0.</summary>
    [Id(3)] public long ReqMsgId { get; init; }
}

/// <summary>A query that was answered: where its answer went.</summary>
[GenerateSerializer, Alias("mtactors.AnsweredQuery")]
public sealed class AnsweredQuery
{
    [Id(0)] public long ReqMsgId { get; init; }
    [Id(1)] public long AnswerMsgId { get; init; }
    [Id(2)] public int AnswerSeqNo { get; init; }
    [Id(3)] public int AnswerBytes { get; init; }
    /// <summary>The client acknowledged the answer.</summary>
    [Id(4)] public bool Acked { get; init; }
}
