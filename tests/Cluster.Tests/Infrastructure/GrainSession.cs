using System.Collections.Immutable;
using System.Security.Cryptography;
using MtActors.Grains;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Cluster.Tests.Infrastructure;

/// <summary>One message the session sent: its server msg_id and the decoded object (null when not a service constructor).</summary>
internal sealed record Answer(long MsgId, TlObject? Value);

/// <summary>
/// Plays the gateway's part for one session straight against the session grain (decrypted frames through
/// <see cref="ISessionGrain.ProcessFrame"/>, as coord/phase2-contract.md defines it): client msg_ids from the clock,
/// strictly increasing, odd seq_nos for content messages.
/// </summary>
internal sealed class GrainSession(long authKeyId, long sessionId, long salt)
{
    private static long s_connection = Random.Shared.NextInt64();
    private long _lastMsgId;
    private int _contentSent;

    public long AuthKeyId { get; } = authKeyId;

    public long SessionId { get; } = sessionId;

    public long Salt { get; } = salt;

    public long ConnectionId { get; set; } = Interlocked.Increment(ref s_connection);

    /// <summary>Registers a new permanent auth key with a known initial salt.</summary>
    public static async Task<(long AuthKeyId, long Salt)> RegisterKeyAsync(IGrainFactory grains)
    {
        var key = RandomNumberGenerator.GetBytes(AuthKey.Length);
        var id = AuthKey.ComputeId(key);
        var salt = Random.Shared.NextInt64(1, long.MaxValue);
        var result = await grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, salt));
        if (result != AuthKeyRegisterResult.Registered)
        {
            throw new InvalidOperationException("key not registered: " + result);
        }

        return (id, salt);
    }

    public static long NewSessionId() => BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));

    public ISessionGrain Grain(IGrainFactory grains) => grains.GetSessionGrain(AuthKeyId, SessionId);

    /// <summary>The next client msg_id: the clock's, divisible by 4, above the previous one.</summary>
    public long NextMsgId()
    {
        lock (this)
        {
            var id = MsgIds.FromTime(DateTimeOffset.UtcNow) & ~3L;
            _lastMsgId = id > _lastMsgId ? id : _lastMsgId + 4;
            return _lastMsgId;
        }
    }

    public int NextContentSeqNo() => 2 * Interlocked.Increment(ref _contentSent) - 1;

    /// <summary>A ping frame with a fresh msg_id (returned so that a test can replay it).</summary>
    public IncomingFrame PingFrame(long pingId) =>
        new(Salt, NextMsgId(), NextContentSeqNo(), new Ping(pingId).ToBytes(), ConnectionId);

    /// <summary>Sends a frame and decodes every message of the answer (containers flattened).</summary>
    public async Task<List<Answer>> SendAsync(IGrainFactory grains, IncomingFrame frame, TimeSpan bound)
    {
        var result = await Grain(grains).ProcessFrame(frame).WaitAsync(bound);
        if (result.Disposition == FrameDisposition.AuthKeyUnknown)
        {
            throw new InvalidOperationException("auth key unknown");
        }

        return Decode(result.Messages);
    }

    public static List<Answer> Decode(ImmutableArray<OutgoingMessage> messages)
    {
        var answers = new List<Answer>();
        foreach (var m in messages.IsDefault ? [] : messages)
        {
            var reader = new TlReader(m.Body);
            if (MsgContainer.TryReadHeader(ref reader, out var count))
            {
                for (var i = 0; i < count && MsgContainer.TryReadItem(ref reader, out var item); i++)
                {
                    answers.Add(new Answer(item.MsgId, ServiceSchema.TryRead(item.Body, out var inner, out _) ? inner : null));
                }
            }
            else
            {
                answers.Add(new Answer(m.MsgId, ServiceSchema.TryRead(m.Body, out var value, out _) ? value : null));
            }
        }

        return answers;
    }
}
