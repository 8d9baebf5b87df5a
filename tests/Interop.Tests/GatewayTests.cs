using System.Buffers.Binary;
using System.Diagnostics;
using MtActors.Grains;
using MtActors.Interop.Tests.CSharpClient;
using MtActors.Interop.Tests.Infrastructure;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tests.Handshake;
using MtActors.Protocol.Transport;

namespace MtActors.Interop.Tests;

/// <summary>A server with small limits and short timeouts, so that every reaction of the gateway can be seen quickly.</summary>
public sealed class TightServerFixture : IAsyncLifetime
{
    public const int MaxConnections = 3;
    public const int HandshakeTimeoutSeconds = 2;
    public const int IdleTimeoutSeconds = 4;
    public const int MaxFrameSize = 4096;

    public MtActorsTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MtActorsTestServer.StartAsync(s =>
    {
        s.Storage = MtActorsStorage.PostgreSql;
        s.ConfigureGateway = o =>
        {
            o.MaxConnections = MaxConnections;
            o.MaxHandshakesInFlight = 1;
            o.HandshakeTimeoutSeconds = HandshakeTimeoutSeconds;
            o.IdleTimeoutSeconds = IdleTimeoutSeconds;
            o.MaxFrameSize = MaxFrameSize;
        };
    });

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class TightServerCollection : ICollectionFixture<TightServerFixture>
{
    public const string Name = "mtactors-tight-server";
}

/// <summary>
/// What the gateway does with limits, timeouts, malformed input and unknown keys, seen from a client socket
/// (the C# test client; no Node.js needed).
/// </summary>
[Collection(TightServerCollection.Name)]
public sealed class GatewayTests(TightServerFixture fixture)
{
    /// <summary>Slack for timers on a loaded machine.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);

    /// <summary>A connection with a new pre-shared key, after a first ping that taught it the salt.</summary>
    private async Task<MtProtoTestClient> ConnectWithNewKeyAsync(TransportKind kind, bool obfuscated = false)
    {
        var key = await Server.CreatePreSharedKeyAsync();
        var client = await MtProtoTestClient.ConnectAsync(Server.Port, kind, obfuscated);
        try
        {
            client.UseKey(key);
            await client.PingAsync(1);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>One client message encrypted and framed for the intermediate transport (4-byte length first).</summary>
    private static byte[] IntermediateFrame(Protocol.Crypto.AuthKey key, Protocol.Crypto.MessageHeader header, byte[] body)
    {
        var frame = new byte[4 + Protocol.Crypto.MessageCipher.GetEncryptedLength(body.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(frame, frame.Length - 4);
        Protocol.Crypto.MessageCipher.Encrypt(key, Protocol.Crypto.MessageSender.Client, header, body, frame.AsSpan(4));
        return frame;
    }

    private MtActorsTestServer Server => fixture.Server;

    [Fact]
    public async Task Server_answers_dh_gen_retry_for_a_key_clients_would_keep_as_255_bytes()
    {
        await using var client = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
        var key = await client.CreateKeyAsync(Server.PublicKeyPem, shortKeyFirst: true);
        // CreateKeyAsync throws unless the forced short key got dh_gen_retry; one more retry happens when the next random
        // b gives a short key too (about one run in 256).
        Assert.InRange(client.DhGenRetries, 1, 2);
        Assert.NotEqual(0, key.Key[0]);
        Assert.NotNull(await Server.Grains.GetAuthKeyGrain(key.Id).Get());
        await WaitUntilAsync(() => Server.Gateway.HandshakesInFlight == 0);
    }

    [Fact]
    public async Task An_exact_repeat_gets_the_stored_answer_and_garbage_gets_404()
    {
        await using var client = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Abridged);
        var hs = new TestClient(Server.PublicKeyPem, 42);
        var first = await client.PlainRoundTripAsync(hs.ReqPq());
        var second = await client.PlainRoundTripAsync(hs.ReqPq());
        Assert.Equal(first, second);
        Assert.Equal(HandshakeIds.ResPq, BinaryPrimitives.ReadUInt32LittleEndian(first));

        var error = await Assert.ThrowsAsync<TransportErrorException>(() => client.PlainRoundTripAsync([1, 2, 3, 4, 5, 6, 7, 8]));
        Assert.Equal(-404, error.Code);
        Assert.True(await client.WaitClosedAsync(Slack), "the connection stays open after -404");
        await WaitUntilAsync(() => Server.Gateway.HandshakesInFlight == 0);
    }

    [Fact]
    public async Task A_key_exchange_past_the_in_flight_limit_gets_429()
    {
        await using var first = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
        var hs = new TestClient(Server.PublicKeyPem, 1);
        hs.ReadResPq(await first.PlainRoundTripAsync(hs.ReqPq())); // one key exchange in progress (the limit is 1)
        Assert.Equal(1, Server.Gateway.HandshakesInFlight);

        await using var second = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
        var error = await Assert.ThrowsAsync<TransportErrorException>(
            () => second.PlainRoundTripAsync(new TestClient(Server.PublicKeyPem, 2).ReqPq()));
        Assert.Equal(-429, error.Code);
        Assert.True(await second.WaitClosedAsync(Slack));

        await first.DisposeAsync();
        await WaitUntilAsync(() => Server.Gateway.HandshakesInFlight == 0);
        await using var third = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
        await third.CreateKeyAsync(Server.PublicKeyPem);
    }

    [Fact]
    public async Task A_connection_past_the_limit_gets_429()
    {
        await WaitUntilAsync(() => Server.Gateway.OpenConnections == 0);
        var key = await Server.CreatePreSharedKeyAsync();
        var open = new List<MtProtoTestClient>();
        try
        {
            for (var i = 0; i < TightServerFixture.MaxConnections; i++)
            {
                var c = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
                open.Add(c);
                c.UseKey(key);
                await c.PingAsync(i + 1);
            }

            await using var extra = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.PaddedIntermediate);
            extra.UseKey(key);
            await extra.SendAsync(new Ping(99).ToBytes());
            var error = await Assert.ThrowsAsync<TransportErrorException>(() => extra.ReceiveAsync());
            Assert.Equal(-429, error.Code);
            Assert.True(await extra.WaitClosedAsync(Slack));
        }
        finally
        {
            foreach (var c in open)
            {
                await c.DisposeAsync();
            }
        }

        await WaitUntilAsync(() => Server.Gateway.OpenConnections == 0);
        await using var after = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
        after.UseKey(key);
        await after.PingAsync(100);
    }

    [Fact]
    public async Task An_unknown_auth_key_gets_404_and_the_connection_closes()
    {
        await using var client = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Full);
        var key = new byte[256];
        Random.Shared.NextBytes(key);
        key[0] = 1;
        client.UseKey(key); // never registered
        await client.SendAsync(new Ping(1).ToBytes());
        var error = await Assert.ThrowsAsync<TransportErrorException>(() => client.ReceiveAsync());
        Assert.Equal(-404, error.Code);
        Assert.True(await client.WaitClosedAsync(Slack));
    }

    [Fact]
    public async Task A_frame_that_does_not_decrypt_is_dropped_and_the_connection_goes_on()
    {
        await using var client = await ConnectWithNewKeyAsync(TransportKind.Intermediate);
        var framed = IntermediateFrame(client.Key!,
            new(client.Salt, client.SessionId, Protocol.Messages.MsgIds.FromTime(DateTimeOffset.UtcNow) & ~3L, 1), new Ping(2).ToBytes());
        framed[4 + 40] ^= 0x55; // corrupt the ciphertext (after the 4-byte length): msg_key no longer matches
        await client.SendRawAsync(framed);
        var (pong, _) = await client.PingAsync(3);
        Assert.Equal(3, pong.PingId);
    }

    [Fact]
    public async Task Frames_of_two_sessions_sent_back_to_back_in_one_write_are_all_answered_each_session_in_order()
    {
        await using var client = await ConnectWithNewKeyAsync(TransportKind.Intermediate);
        var authKey = client.Key!;

        // 40 pings (more than MaxPendingFrames: several batches) in two new sessions, runs of one and two frames.
        long[] sessions = [Random.Shared.NextInt64(1, long.MaxValue), Random.Shared.NextInt64(1, long.MaxValue)];
        const int Count = 40;
        var bytes = new List<byte>();
        var sent = new List<(long Session, long MsgId, long PingId)>();
        long msgId = Protocol.Messages.MsgIds.FromTime(DateTimeOffset.UtcNow) & ~3L;
        for (int i = 0; i < Count; i++)
        {
            long session = sessions[i % 3 == 2 ? 1 : 0];
            msgId += 4;
            bytes.AddRange(IntermediateFrame(authKey, new(client.Salt, session, msgId, 0), new Ping(1000 + i).ToBytes()));
            sent.Add((session, msgId, 1000 + i));
        }

        await client.SendRawAsync([.. bytes]); // one write

        var pongs = new List<(long Session, long ServerMsgId, Pong Pong)>();
        var created = new HashSet<long>();
        while (pongs.Count < Count)
        {
            var payload = await client.ReceivePayloadAsync();
            var plain = new byte[payload.Length];
            Assert.Equal(Protocol.Crypto.MessageDecryptError.None,
                Protocol.Crypto.MessageCipher.Decrypt(authKey, Protocol.Crypto.MessageSender.Server, payload, plain, out var message));
            foreach (var obj in MtProtoTestClient.Unpack(message.Body.ToArray()))
            {
                switch (obj)
                {
                    case Pong pong:
                        pongs.Add((message.SessionId, message.MsgId, pong));
                        break;
                    case NewSessionCreated:
                        Assert.True(created.Add(message.SessionId), "new_session_created twice");
                        break;
                }
            }
        }

        Assert.Equal(sessions.ToHashSet(), created);
        foreach (var session in sessions)
        {
            // Every ping of the session answered once, in the order sent, with rising server msg_ids.
            var expected = sent.Where(s => s.Session == session).Select(s => new Pong(s.MsgId, s.PingId)).ToList();
            var mine = pongs.Where(p => p.Session == session).ToList();
            Assert.Equal(expected, mine.Select(p => p.Pong).ToList());
            Assert.Equal(mine.Select(p => p.ServerMsgId).Order(), mine.Select(p => p.ServerMsgId));
        }

        // Sessions are independent (MTProto orders nothing across them): the two sessions' answers may interleave in any
        // way, each session's in its own order (above).
        Assert.Equal(sent.Select(s => s.PingId).Order(), pongs.Select(p => p.Pong.PingId).Order());
        var (last, _) = await client.PingAsync(2); // the connection goes on
        Assert.Equal(2, last.PingId);
    }

    [Fact]
    public async Task A_slow_query_in_one_session_does_not_hold_up_another_session_on_the_same_connection()
    {
        await using var client = await ConnectWithNewKeyAsync(TransportKind.Intermediate);
        var authKey = client.Key!;

        long slow = Random.Shared.NextInt64(1, long.MaxValue), quick = Random.Shared.NextInt64(1, long.MaxValue);
        long msgId = Protocol.Messages.MsgIds.FromTime(DateTimeOffset.UtcNow) & ~3L;
        var sleep = new byte[8]; // mtactors.sleep(5000): answered after 5 s
        BinaryPrimitives.WriteUInt32LittleEndian(sleep, MtProtoTestMethods.Sleep);
        BinaryPrimitives.WriteInt32LittleEndian(sleep.AsSpan(4), 5000);
        var bytes = new List<byte>();
        bytes.AddRange(IntermediateFrame(authKey, new(client.Salt, slow, msgId + 4, 1), sleep));
        bytes.AddRange(IntermediateFrame(authKey, new(client.Salt, quick, msgId + 8, 0), new Ping(7).ToBytes()));

        var clock = Stopwatch.StartNew();
        await client.SendRawAsync([.. bytes]); // one write: the slow session's frame first
        var order = new List<(long Session, TlObject Object, TimeSpan At)>();
        while (!order.Any(o => o.Object is RpcResult) || !order.Any(o => o.Object is Pong))
        {
            var payload = await client.ReceivePayloadAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var plain = new byte[payload.Length];
            Assert.Equal(Protocol.Crypto.MessageDecryptError.None,
                Protocol.Crypto.MessageCipher.Decrypt(authKey, Protocol.Crypto.MessageSender.Server, payload, plain, out var message));
            long sessionId = message.SessionId;
            var at = clock.Elapsed;
            order.AddRange(MtProtoTestClient.Unpack(message.Body.ToArray()).Select(o => (sessionId, o, at)));
        }

        var pong = Assert.Single(order, o => o.Object is Pong);
        var result = Assert.Single(order, o => o.Object is RpcResult);
        Assert.Equal((quick, slow), (pong.Session, result.Session));
        Assert.True(pong.At < result.At, $"pong at {pong.At}, the slow query's answer at {result.At}");
        Assert.True(result.At >= TimeSpan.FromSeconds(4.5), $"the sleep answered after {result.At}");
        Assert.True(pong.At < TimeSpan.FromSeconds(4), $"the other session's pong waited {pong.At} for the slow query");
    }

    [Fact]
    public async Task Quick_ack_requests_are_answered_with_the_message_token()
    {
        await using var client = await ConnectWithNewKeyAsync(TransportKind.Abridged);
        await client.SendAsync(new Ping(2).ToBytes(), quickAck: true);
        var expected = client.LastQuickAckToken;
        await client.ReceiveUntilAsync(o => o is Pong { PingId: 2 });
        Assert.Contains(expected, client.QuickAcks);
    }

    [Fact]
    public async Task A_frame_larger_than_the_limit_closes_the_connection()
    {
        await using var client = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0xEEEEEEEE);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), TightServerFixture.MaxFrameSize + 4);
        await client.SendRawAsync(bytes);
        Assert.True(await client.WaitClosedAsync(Slack), "an oversized frame header did not close the connection");
    }

    [Fact]
    public async Task Http_and_garbage_close_the_connection_and_the_silo_keeps_serving()
    {
        await using (var http = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate))
        {
            await http.SendRawAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            Assert.True(await http.WaitClosedAsync(Slack));
        }

        await using (var garbage = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate))
        {
            var junk = new byte[64];
            Random.Shared.NextBytes(junk);
            junk[0] = 0x01; // not a transport tag: read as an obfuscated init whose tag is wrong
            junk[4] = 0x01;
            await garbage.SendRawAsync(junk);
            Assert.True(await garbage.WaitClosedAsync(Slack));
        }

        await using var good = await ConnectWithNewKeyAsync(TransportKind.Intermediate, obfuscated: true);
    }

    [Fact]
    public async Task A_silent_connection_is_closed_after_the_first_frame_timeout()
    {
        await using var client = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
        var watch = Stopwatch.StartNew();
        Assert.True(await client.WaitClosedAsync(TimeSpan.FromSeconds(TightServerFixture.HandshakeTimeoutSeconds) + Slack));
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(TightServerFixture.HandshakeTimeoutSeconds - 0.5),
            TimeSpan.FromSeconds(TightServerFixture.HandshakeTimeoutSeconds) + Slack);
    }

    [Fact]
    public async Task A_stalled_key_exchange_is_closed_after_the_handshake_timeout()
    {
        await using var client = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
        var hs = new TestClient(Server.PublicKeyPem, 3);
        var watch = Stopwatch.StartNew(); // the timeout runs from req_pq (resPQ may take a while on a cold server)
        hs.ReadResPq(await client.PlainRoundTripAsync(hs.ReqPq()));
        Assert.True(await client.WaitClosedAsync(TimeSpan.FromSeconds(TightServerFixture.HandshakeTimeoutSeconds) + Slack));
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(TightServerFixture.HandshakeTimeoutSeconds - 0.5),
            TimeSpan.FromSeconds(TightServerFixture.HandshakeTimeoutSeconds) + Slack);
        await WaitUntilAsync(() => Server.Gateway.HandshakesInFlight == 0);
    }

    [Fact]
    public async Task An_idle_connection_is_closed_after_the_idle_timeout()
    {
        await using var client = await ConnectWithNewKeyAsync(TransportKind.Intermediate);
        var watch = Stopwatch.StartNew();
        Assert.True(await client.WaitClosedAsync(TimeSpan.FromSeconds(TightServerFixture.IdleTimeoutSeconds) + Slack));
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(TightServerFixture.IdleTimeoutSeconds - 1),
            TimeSpan.FromSeconds(TightServerFixture.IdleTimeoutSeconds) + Slack);
    }

    [Fact]
    public async Task Ping_delay_disconnect_closes_the_connection_after_the_delay_unless_renewed()
    {
        await using var client = await ConnectWithNewKeyAsync(TransportKind.Intermediate);

        // Renewed after 1 s: the first 2 s delay must not close it; the renewal's does.
        await client.SendAsync(new PingDelayDisconnect(2, 2).ToBytes());
        await client.ReceiveUntilAsync(o => o is Pong { PingId: 2 });
        await Task.Delay(TimeSpan.FromSeconds(1));
        await client.SendAsync(new PingDelayDisconnect(3, 2).ToBytes());
        var watch = Stopwatch.StartNew();
        await client.ReceiveUntilAsync(o => o is Pong { PingId: 3 });
        Assert.True(await client.WaitClosedAsync(TimeSpan.FromSeconds(2) + Slack), "ping_delay_disconnect did not close");
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(2) + Slack);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException("condition not reached in 10 s");
            }

            await Task.Delay(20);
        }
    }
}
