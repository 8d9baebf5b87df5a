namespace MtActors.Grains;

/// <summary>Tunables of the session grains (configuration section <c>MtActors:Sessions</c>).</summary>
public sealed class SessionOptions
{
    public const string Section = "MtActors:Sessions";

    /// <summary>How many recent client msg_ids a session remembers for duplicate detection (spec: N unspecified; 64..8192).</summary>
    public int ReplayWindowSize { get; set; } = 256;

    /// <summary>
    /// Seconds of msg_id space reserved ahead with one durable write (client replay floor and server msg_id
    /// floor; 1..60). Larger: fewer writes under steady traffic; smaller: after a silo crash, fewer
    /// of the session's in-flight messages are answered "too old to tell" (20) and re-sent by the client.
    /// </summary>
    public int ReservationSeconds { get; set; } = 5;

    /// <summary>
    /// Write-behind delay of the session row's background writes, in milliseconds (0..60000): changes that need not be
    /// durable before an answer (window entries, counters, last activity) are written at most about once per delay.
    /// Replay protection does not depend on it (the reservations do); awaited writes never wait for it.
    /// </summary>
    public int BackgroundWriteDelayMilliseconds { get; set; } = 1000;

    /// <summary>
    /// Answer the built-in test methods (<see cref="MtProtoTestMethods"/>: a help.getConfig stub answering boolTrue,
    /// mtactors.echo, mtactors.sleep) when the application registered no handler of its own for them.
    /// Test conveniences (GramJS's connect() needs an answer to help.getConfig); turn off in production.
    /// </summary>
    public bool BuiltInTestMethods { get; set; } = true;

    /// <summary>How long an API handler may run before the query is answered rpc_error 500 "TIMEOUT" (1..3600 s).</summary>
    public int ApiCallTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// The most unacknowledged content-related messages (rpc_result, new_session_created) a session keeps for
    /// re-sending (on a new connection, on msg_resend_req, for a duplicated query); the oldest are forgotten first (16..4096).
    /// </summary>
    public int MaxUnackedMessages { get; set; } = 256;

    /// <summary>The most bytes of unacknowledged messages a session keeps (64 KiB..64 MiB); the oldest are forgotten first.</summary>
    public int MaxUnackedBytes { get; set; } = 1 << 20;

    /// <summary>
    /// A duplicated query whose unacknowledged answer is at most this many bytes gets the answer re-sent; a larger
    /// (or already acknowledged) one gets msg_detailed_info (0..1 MiB).
    /// </summary>
    public int DuplicateAnswerResendMaxBytes { get; set; } = 2048;

    /// <summary>How destroy_session / destroy_auth_key are answered (see docs/session-semantics.md).</summary>
    public DestroyAnswerForm DestroyAnswers { get; set; } = DestroyAnswerForm.Bare;

    internal string? Validate()
    {
        if (BackgroundWriteDelayMilliseconds is < 0 or > 60_000) return $"{nameof(BackgroundWriteDelayMilliseconds)} must be within 0..60000";
        if (ApiCallTimeoutSeconds is < 1 or > 3600) return $"{nameof(ApiCallTimeoutSeconds)} must be within 1..3600";
        if (MaxUnackedMessages is < 16 or > 4096) return $"{nameof(MaxUnackedMessages)} must be within 16..4096";
        if (MaxUnackedBytes is < (64 << 10) or > (64 << 20)) return $"{nameof(MaxUnackedBytes)} must be within 65536..67108864";
        if (DuplicateAnswerResendMaxBytes is < 0 or > (1 << 20)) return $"{nameof(DuplicateAnswerResendMaxBytes)} must be within 0..1048576";
        if (!Enum.IsDefined(DestroyAnswers)) return $"{nameof(DestroyAnswers)} must be Bare, RpcResult or Both";
        if (ReplayWindowSize is < 64 or > 8192) return $"{nameof(ReplayWindowSize)} must be within 64..8192";
        if (ReservationSeconds is < 1 or > 60) return $"{nameof(ReservationSeconds)} must be within 1..60";
        return null;
    }
}

/// <summary>
/// The form of the answers to destroy_session and destroy_auth_key. The documentation and tdlib, Telethon, Android
/// and mtcute's automatic traffic expect them bare (top level); GramJS's invoke() resolves only when they come
/// inside rpc_result (real-clients.md §2.4, §5.5).
/// </summary>
public enum DestroyAnswerForm
{
    /// <summary>destroy_session_ok/none and destroy_auth_key_ok/none/fail as top-level messages (the documented form).</summary>
    Bare = 0,
    /// <summary>Inside rpc_result (req_msg_id = the request's msg_id), content-related: for GramJS-style clients.</summary>
    RpcResult = 1,
    /// <summary>Both, bare first: every client finds the form it waits for (the other one is logged or ignored).</summary>
    Both = 2,
}
