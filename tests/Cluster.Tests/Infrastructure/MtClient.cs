using MtActors.Protocol.Client;
using MtActors.Protocol.Client.Handshake;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Schema;

namespace MtActors.Cluster.Tests.Infrastructure;

/// <summary>MTProto clients (src/Protocol.Client) against the silos' gateways.</summary>
internal static class MtClient
{
    public static Task<MtProtoConnection> ConnectAsync(SiloCluster cluster, int instance) =>
        MtProtoConnection.ConnectAsync("127.0.0.1", cluster.PortsOf(instance).MtProto,
            new MtProtoConnectionOptions { ConnectTimeout = TimeSpan.FromSeconds(5) });

    public static ClientHandshakeOptions Handshake(SiloCluster cluster) => new() { ServerKeys = [cluster.RsaPublicKey], DcId = 2 };

    /// <summary>
    /// One encrypted ping frame for a session, built once so that the very same bytes can be sent again later (a
    /// captured frame replayed).
    /// </summary>
    public static byte[] PingFrame(MtProtoSession session, long pingId, out long msgId)
    {
        msgId = session.NextMsgId();
        var header = new MessageHeader(session.Salt, session.SessionId, msgId, session.NextSeqNo(contentRelated: false));
        var body = new Ping(pingId).ToBytes();
        var frame = new byte[MessageCipher.GetEncryptedLength(body.Length)];
        var length = MessageCipher.Encrypt(session.AuthKey, MessageSender.Client, header, body, frame);
        return frame.AsSpan(0, length).ToArray();
    }

    /// <summary>
    /// Pings until a pong arrives (bounded); each attempt gets <paramref name="perTry"/>. Gives up at once when the
    /// server closed the connection (the caller reconnects).
    /// </summary>
    public static async Task<Pong> PingUntilAnsweredAsync(MtProtoSession session, TimeSpan bound, TimeSpan perTry)
    {
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            try
            {
                using var cts = new CancellationTokenSource(perTry);
                return await session.PingAsync(cancellationToken: cts.Token);
            }
            catch (Exception) when (DateTime.UtcNow < deadline && session.Connection.IsOpen)
            {
                await Task.Delay(100);
            }
        }
    }
}
