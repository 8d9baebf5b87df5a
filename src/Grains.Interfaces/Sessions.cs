using System.Collections.Immutable;
using Orleans.Concurrency;

namespace MtActors.Grains;

/// <summary>
/// One MTProto session (grain key: a Guid packing auth_key_id and session_id, see <see cref="SessionKeys"/>).
/// Owns the session's message sequence: client msg_id window and replay floor, the server's msg_id and
/// seq_no counters, unique_id; validates server salts (derived from the auth key's salt seed).
/// A session of another auth key is unreachable: the auth key id is part of the grain id.
/// </summary>
public interface ISessionGrain : IGrainWithGuidKey
{
    /// <summary>
    /// One decrypted frame of this session (coord/phase2-contract.md): every check (salt, msg_id window,
    /// seq_no, containers), every service message, unwrapping, API dispatch; returns what to send back,
    /// headers already allocated. Whatever must be durable before the answer is durable when this returns.
    /// </summary>
    /// <remarks>
    /// Interleaves with the session's other calls: the state is guarded by the grain's own lock, which is released
    /// while API handlers and destroy_* calls run, so a long query does not hold up other connections' frames.
    /// The gateway still awaits each frame of one connection before the next.
    /// </remarks>
    [AlwaysInterleave]
    Task<FrameResult> ProcessFrame(IncomingFrame frame);

    /// <summary>
    /// Several decrypted frames of this session from one connection, in the order received: exactly as if
    /// <see cref="ProcessFrame"/> were called for each in turn, each one awaited before the next. Answers a prefix:
    /// it stops after a frame that ran API handlers or destroy_* (so that a slow query does not hold back the answers
    /// before it), after a frame whose disposition is not <see cref="FrameDisposition.Continue"/>, and at the first
    /// frame that failed (<see cref="FrameBatchResult.Error"/>; the frames before it are answered). The caller
    /// sends the rest in another call.
    /// </summary>
    [AlwaysInterleave]
    Task<FrameBatchResult> ProcessFrames(ImmutableArray<IncomingFrame> frames);

    /// <summary>
    /// Registers the messages of one decrypted frame (the top-level message first, then the contents of a
    /// container): checks the salt, then each msg_id (the 300 s / 30 s time window on the top-level one only)
    /// and seq_no order, and creates the session on its first accepted message.
    /// Whatever must be durable for the answer (session existence, replay floor, server msg_id floor) is
    /// durable when this returns.
    /// </summary>
    Task<ReceiveResult> Receive(ReceiveRequest request);

    /// <summary>
    /// Allocates headers (server msg_id, seq_no) for messages the caller is about to send in this session,
    /// in order: strictly increasing msg_ids (so a container allocated last gets the greatest id).
    /// Empty when the session does not exist.
    /// </summary>
    Task<ImmutableArray<OutboundHeader>> AllocateOutbound(ImmutableArray<OutboundKind> messages);

    /// <summary>get_future_salts(num): between 3 and 64 salts (num clamped), starting with the current one.</summary>
    Task<FutureSaltsResult> GetFutureSalts(int num);

    /// <summary>
    /// destroy_session(session_id) received in THIS session: destroys session <paramref name="sessionId"/> of the
    /// same auth key. Ok when it existed, None otherwise; None (and nothing destroyed) when it is this session.
    /// </summary>
    [AlwaysInterleave]
    Task<DestroySessionResult> DestroySession(long sessionId);

    /// <summary>
    /// Destroys this session: deletes its row (which also takes it off its key's session list), deactivates.
    /// True when it existed. A later message for the same id creates a new session (new unique_id).
    /// Interleaves with the session's other calls (the grain serialises state access itself), so two
    /// sessions destroying each other at the same moment cannot deadlock.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> Destroy();

    /// <summary>Snapshot for tools (CLI, admin API); null when the session does not exist. Never creates it.</summary>
    Task<SessionInfo?> GetInfo();
}

/// <summary>One message header of a frame: msg_id and seq_no as the client sent them.</summary>
[GenerateSerializer, Immutable, Alias("mtactors.InboundMessage")]
public sealed record InboundMessage(long MsgId, int SeqNo);

/// <summary>A decrypted frame as far as the session layer's bookkeeping goes.</summary>
/// <param name="Salt">The salt from the frame's internal header.</param>
/// <param name="Messages">The top-level message first, then (for a container) its contents.</param>
[GenerateSerializer, Immutable, Alias("mtactors.ReceiveRequest")]
public sealed record ReceiveRequest(long Salt, ImmutableArray<InboundMessage> Messages);

[GenerateSerializer, Alias("mtactors.ReceiveStatus")]
public enum ReceiveStatus
{
    /// <summary>Salt accepted; see each message's verdict.</summary>
    Ok = 0,
    /// <summary>Wrong or expired salt: nothing processed; answer bad_server_salt (notice included).</summary>
    BadServerSalt = 1,
    /// <summary>The auth key is unknown, destroyed or expired: answer transport error -404.</summary>
    AuthKeyUnknown = 2,
}

/// <summary>What happened to one incoming message.</summary>
[GenerateSerializer, Alias("mtactors.MessageVerdict")]
public enum MessageVerdict
{
    /// <summary>New: process it.</summary>
    Accepted = 0,
    /// <summary>Already received in this session: do not process again.</summary>
    Duplicate = 1,
    /// <summary>bad_msg_notification 16: msg_id too low (more than 300 s in the past).</summary>
    MsgIdTooLow = 16,
    /// <summary>bad_msg_notification 17: msg_id too high (more than 30 s in the future).</summary>
    MsgIdTooHigh = 17,
    /// <summary>bad_msg_notification 18: a client msg_id must be divisible by 4.</summary>
    MsgIdInvalid = 18,
    /// <summary>bad_msg_notification 20: too old to tell whether it was already received.</summary>
    MsgIdTooOldToTell = 20,
    /// <summary>bad_msg_notification 32: seq_no too low for its msg_id (against the messages received before).</summary>
    SeqNoTooLow = 32,
    /// <summary>bad_msg_notification 33: seq_no too high for its msg_id (against the messages received before).</summary>
    SeqNoTooHigh = 33,
}

[GenerateSerializer, Immutable, Alias("mtactors.MessageOutcome")]
public sealed record MessageOutcome(long MsgId, int SeqNo, MessageVerdict Verdict);

/// <summary>A server msg_id and seq_no allocated for one outgoing message.</summary>
[GenerateSerializer, Immutable, Alias("mtactors.OutboundHeader")]
public sealed record OutboundHeader(long MsgId, int SeqNo);

/// <summary>How an outgoing message is numbered.</summary>
[Flags]
[GenerateSerializer, Alias("mtactors.OutboundKind")]
public enum OutboundKind
{
    /// <summary>Not content-related (even seq_no), not an answer (msg_id % 4 == 3).</summary>
    Notice = 0,
    /// <summary>Content-related: odd seq_no, the client must acknowledge it.</summary>
    ContentRelated = 1,
    /// <summary>An answer to a client message: msg_id % 4 == 1.</summary>
    Response = 2,
}

[GenerateSerializer, Alias("mtactors.SessionNoticeKind")]
public enum SessionNoticeKind
{
    /// <summary>new_session_created(first_msg_id = RefMsgId, unique_id, server_salt); content-related.</summary>
    NewSessionCreated = 0,
    /// <summary>bad_server_salt(bad_msg_id = RefMsgId, bad_msg_seqno = RefSeqNo, 48, new_server_salt = ServerSalt).</summary>
    BadServerSalt = 1,
    /// <summary>bad_msg_notification(bad_msg_id = RefMsgId, bad_msg_seqno = RefSeqNo, error_code = Code).</summary>
    BadMsgNotification = 2,
}

/// <summary>A service message the session decided to send, with its header already allocated.</summary>
[GenerateSerializer, Immutable, Alias("mtactors.SessionNotice")]
public sealed record SessionNotice(SessionNoticeKind Kind, long RefMsgId, int RefSeqNo, int Code, long UniqueId, long ServerSalt, OutboundHeader Header);

/// <summary>Result of <see cref="ISessionGrain.Receive"/>.</summary>
/// <param name="ServerSalt">The current server salt (for the internal header of the answers).</param>
/// <param name="Created">True when this call created the session (a new unique_id).</param>
/// <param name="Messages">One verdict per incoming message, in request order (empty unless Status is Ok).</param>
/// <param name="Notices">Service messages to send, in order (new_session_created, bad_server_salt, bad_msg_notification).</param>
[GenerateSerializer, Immutable, Alias("mtactors.ReceiveResult")]
public sealed record ReceiveResult(
    ReceiveStatus Status,
    long ServerSalt,
    bool Created,
    ImmutableArray<MessageOutcome> Messages,
    ImmutableArray<SessionNotice> Notices);

[GenerateSerializer, Immutable, Alias("mtactors.FutureSalt")]
public sealed record FutureSalt(int ValidSince, int ValidUntil, long Salt);

/// <summary>future_salts: <paramref name="Now"/> is the server's unix time.</summary>
[GenerateSerializer, Immutable, Alias("mtactors.FutureSaltsResult")]
public sealed record FutureSaltsResult(int Now, ImmutableArray<FutureSalt> Salts);

[GenerateSerializer, Alias("mtactors.DestroySessionOutcome")]
public enum DestroySessionOutcome
{
    /// <summary>destroy_session_none#62d350c9.</summary>
    None = 0,
    /// <summary>destroy_session_ok#e22045fc.</summary>
    Ok = 1,
}

[GenerateSerializer, Immutable, Alias("mtactors.DestroySessionResult")]
public sealed record DestroySessionResult(long SessionId, DestroySessionOutcome Outcome);

/// <summary>What tools may see of a session (no key material).</summary>
[GenerateSerializer, Immutable, Alias("mtactors.SessionInfo")]
public sealed record SessionInfo(
    long AuthKeyId,
    long SessionId,
    long UniqueId,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastActivityAt,
    long FirstMsgId,
    long LastClientMsgId,
    long LastServerMsgId,
    int ContentMessagesSent,
    long CurrentSalt);
