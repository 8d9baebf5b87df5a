using System.Collections.Immutable;

namespace MtActors.Grains;

// The gateway <-> session grain contract (coord/phase2-contract.md): ISessionGrain.ProcessFrame for one decrypted
// frame, ISessionGrain.ProcessFrames for several already buffered frames of one session (the same rules, in order).
// The gateway decrypts and encrypts; every protocol rule lives in the session grain.

/// <summary>One decrypted MTProto frame of a session, as the gateway hands it to <see cref="ISessionGrain.ProcessFrame"/>.</summary>
/// <param name="Salt">The salt from the frame's internal header.</param>
/// <param name="MsgId">The top-level msg_id.</param>
/// <param name="SeqNo">The top-level seq_no.</param>
/// <param name="Body">message_data: exactly message_data_length bytes (one boxed TL object, possibly a msg_container).</param>
/// <param name="ConnectionId">
/// Unique per gateway connection in the cluster (a silo-unique prefix and a counter). A value the session has not
/// seen last tells it "new connection": unacknowledged content-related messages are re-sent.
/// </param>
[GenerateSerializer, Immutable, Alias("mtactors.IncomingFrame")]
public sealed record IncomingFrame(long Salt, long MsgId, int SeqNo, byte[] Body, long ConnectionId);

/// <summary>One message to encrypt and send as one frame: the header is allocated, <paramref name="Body"/> may be a msg_container.</summary>
[GenerateSerializer, Immutable, Alias("mtactors.OutgoingMessage")]
public sealed record OutgoingMessage(long MsgId, int SeqNo, byte[] Body);

/// <summary>What the gateway does with the connection after a frame.</summary>
[GenerateSerializer, Alias("mtactors.FrameDisposition")]
public enum FrameDisposition
{
    /// <summary>Send <see cref="FrameResult.Messages"/>, keep the connection.</summary>
    Continue = 0,
    /// <summary>The auth key does not exist (any more): send transport error -404 and close. Messages is empty.</summary>
    AuthKeyUnknown = 1,
    /// <summary>destroy_auth_key succeeded: send Messages, then -404 for any later frame of this key, and close.</summary>
    CloseAfterSend = 2,
}

/// <summary>The answer to one frame.</summary>
/// <param name="Disposition">What to do with the connection.</param>
/// <param name="Salt">The salt for the internal header of every outgoing message.</param>
/// <param name="Messages">Encrypt each as ONE frame, in this order (the session packs containers itself).</param>
/// <param name="DisconnectDelaySeconds">
/// &gt; 0: ping_delay_disconnect (re)arms the connection's close timer to this many seconds from now;
/// 0: leave the timer as it is.
/// </param>
[GenerateSerializer, Immutable, Alias("mtactors.FrameResult")]
public sealed record FrameResult(
    FrameDisposition Disposition,
    long Salt,
    ImmutableArray<OutgoingMessage> Messages,
    int DisconnectDelaySeconds)
{
    /// <summary>The answer for a frame whose auth key is unknown.</summary>
    public static FrameResult KeyUnknown { get; } = new(FrameDisposition.AuthKeyUnknown, 0, [], 0);
}

/// <summary>The answers to a prefix of the frames given to <see cref="ISessionGrain.ProcessFrames"/>.</summary>
/// <param name="Results">One per processed frame, in order (at least one unless <paramref name="Error"/> is set).</param>
/// <param name="Error">
/// Set when frame number <c>Results.Length</c> failed (what <see cref="ISessionGrain.ProcessFrame"/> would have thrown):
/// the caller sends the answers before it and then treats it as a failed call.
/// </param>
[GenerateSerializer, Immutable, Alias("mtactors.FrameBatchResult")]
public sealed record FrameBatchResult(ImmutableArray<FrameResult> Results, string? Error);
