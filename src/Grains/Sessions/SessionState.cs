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
}
