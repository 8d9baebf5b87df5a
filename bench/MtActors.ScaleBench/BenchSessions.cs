using System.Security.Cryptography;
using MtActors.Grains;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;

namespace MtActors.ScaleBench;

/// <summary>Sessions driven the way the gateway drives them: one decrypted ping frame through ProcessFrame creates one.</summary>
internal static class BenchSessions
{
    private static long s_connection = Random.Shared.NextInt64();

    public static async Task<(long AuthKeyId, long Salt)> RegisterKeyAsync(IGrainFactory grains)
    {
        var key = RandomNumberGenerator.GetBytes(AuthKey.Length);
        var id = AuthKey.ComputeId(key);
        var salt = Random.Shared.NextInt64(1, long.MaxValue);
        var result = await grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, salt));
        return result == AuthKeyRegisterResult.Registered ? (id, salt) : throw new InvalidOperationException("key: " + result);
    }

    /// <summary>Creates session <paramref name="sessionId"/> with its first message (a ping): durable when this returns.</summary>
    public static Task CreateAsync(IGrainFactory grains, long authKeyId, long salt, long sessionId) =>
        PingAsync(grains, authKeyId, salt, sessionId, 1);

    /// <summary>A ping (content-related) with top-level seq_no <paramref name="seqNo"/> on a new connection; answered when this returns.</summary>
    public static Task PingAsync(IGrainFactory grains, long authKeyId, long salt, long sessionId, int seqNo) =>
        SendPingAsync(grains.GetSessionGrain(authKeyId, sessionId), salt, MsgIds.FromTime(DateTimeOffset.UtcNow) & ~3L, seqNo, sessionId,
            Interlocked.Increment(ref s_connection));

    /// <summary>One ping frame through ProcessFrame, as the gateway sends it; throws unless it is answered.</summary>
    private static async Task SendPingAsync(ISessionGrain grain, long salt, long msgId, int seqNo, long pingId, long connection)
    {
        var result = await grain.ProcessFrame(new IncomingFrame(salt, msgId, seqNo, new Ping(pingId).ToBytes(), connection));
        if (result.Disposition != FrameDisposition.Continue || result.Messages.IsDefaultOrEmpty)
        {
            throw new InvalidOperationException("ping not answered: " + result.Disposition);
        }
    }

    /// <summary>A session kept by one client on one connection: pings with rising msg_ids and content-related seq_nos.</summary>
    public sealed class LiveSession(IGrainFactory grains, long authKeyId, long salt, long sessionId)
    {
        private readonly ISessionGrain _grain = grains.GetSessionGrain(authKeyId, sessionId);
        private readonly long _connection = Interlocked.Increment(ref s_connection);
        private long _lastMsgId;
        private int _sent;
        private long _pingId;

        public Task PingAsync()
        {
            _lastMsgId = Math.Max(MsgIds.FromTime(DateTimeOffset.UtcNow) & ~3L, _lastMsgId + 4);
            return SendPingAsync(_grain, salt, _lastMsgId, 2 * _sent++ + 1, ++_pingId, _connection);
        }
    }

    public static long NewSessionId() => BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
}
