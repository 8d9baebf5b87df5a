using System.Buffers.Binary;
using System.Security.Cryptography;
using MtActors.Protocol.Client;
using MtActors.Protocol.Client.Handshake;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tests.Handshake;
using MtActors.Protocol.Transport;

namespace MtActors.Protocol.Tests.Client;

/// <summary>The client library over TCP against <see cref="ScriptedServer"/> on 127.0.0.1.</summary>
public sealed class SessionTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);
    private static readonly Lazy<RsaPublicKey> s_public = new(() => RsaPublicKey.FromPem(TestKeys.Key.ExportPublicKeyPem()));

    private static ClientHandshakeOptions Handshake() => new() { ServerKeys = [s_public.Value], DcId = 2 };

    private static Task<MtProtoConnection> Connect(ScriptedServer server, TransportKind kind = TransportKind.Intermediate, bool obfuscated = false) =>
        MtProtoConnection.ConnectAsync("127.0.0.1", server.Port, new MtProtoConnectionOptions { Transport = kind, Obfuscated = obfuscated });

    private static AuthKey PresharedKey(ScriptedServer server)
    {
        var key = new AuthKey(RandomNumberGenerator.GetBytes(256));
        server.AddKey(key);
        return key;
    }

    public static TheoryData<TransportKind, bool> Transports() => new()
    {
        { TransportKind.Abridged, false },
        { TransportKind.Intermediate, false },
        { TransportKind.PaddedIntermediate, false },
        { TransportKind.Full, false },
        { TransportKind.Abridged, true },
        { TransportKind.Intermediate, true },
        { TransportKind.PaddedIntermediate, true },
    };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task New_key_then_ping_and_echo_over_every_transport(TransportKind kind, bool obfuscated)
    {
        await using var server = new ScriptedServer();
        await using var connection = await Connect(server, kind, obfuscated);
        var key = await connection.CreateAuthKeyAsync(Handshake()).WaitAsync(Limit);
        await using var session = connection.OpenSession(key);
        var pong = await session.PingAsync(77).WaitAsync(Limit);
        Assert.Equal(77, pong.PingId);
        var echo = await session.InvokeAsync(ClientMessages.EchoQuery("hello"u8)).WaitAsync(Limit);
        Assert.False(echo.IsError);
        Assert.Equal(ClientMessages.EchoQuery("hello"u8), echo.Result.ToArray());
        Assert.Equal(server.Salt, session.Salt);
        Assert.NotNull(session.LastNewSession);
        Assert.True(server.HasSession(key.AuthKeyId, session.SessionId));
    }

    [Fact]
    public async Task Many_calls_in_flight_on_several_sessions_of_one_connection()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        var sessions = Enumerable.Range(0, 3).Select(_ => connection.OpenSession(key, server.Salt)).ToArray();
        var calls = sessions.SelectMany(s => Enumerable.Range(0, 100).Select(async i =>
        {
            var payload = BitConverter.GetBytes(s.SessionId ^ i);
            var r = await s.InvokeAsync(ClientMessages.EchoQuery(payload));
            Assert.Equal(ClientMessages.EchoQuery(payload), r.Result.ToArray());
        })).ToArray();
        await Task.WhenAll(calls).WaitAsync(Limit);
        foreach (var s in sessions)
        {
            Assert.Equal(0, s.PendingCount);
            await s.DisposeAsync();
        }
        // Client msg_ids rise and are divisible by 4 within each session.
        foreach (var group in server.Received.GroupBy(m => m.SessionId))
        {
            Assert.All(group, m => Assert.Equal(0, m.MsgId & 3));
        }
    }

    [Fact]
    public async Task Wrong_salt_is_recovered_through_bad_server_salt()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(key, salt: 0);
        var badSalt = session.WaitForMessageAsync(m => m.ConstructorId == ConstructorIds.BadServerSalt, Limit);
        Assert.Equal(5, (await session.PingAsync(5).WaitAsync(Limit)).PingId);
        var bad = Assert.IsType<BadServerSalt>((await badSalt).TryParse());
        Assert.Equal(48, bad.ErrorCode);
        Assert.Equal(server.Salt, session.Salt);
        Assert.True(session.Resends >= 1);
        // Later calls go straight through with the adopted salt.
        var before = session.Resends;
        await session.InvokeAsync(ClientMessages.EchoQuery([1, 2, 3])).WaitAsync(Limit);
        Assert.Equal(before, session.Resends);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(-60)]
    public async Task Clock_skew_is_fixed_from_bad_msg_16_17(int skewSeconds)
    {
        await using var server = new ScriptedServer { ClockSkew = TimeSpan.FromSeconds(skewSeconds) };
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(key, server.Salt);
        var notification = session.WaitForMessageAsync(m => m.ConstructorId == ConstructorIds.BadMsgNotification, Limit);
        await session.PingAsync().WaitAsync(Limit);
        var bad = Assert.IsType<BadMsgNotification>((await notification).TryParse());
        Assert.Equal(skewSeconds > 0 ? 16 : 17, bad.ErrorCode);
        Assert.InRange(session.TimeOffset.TotalSeconds, skewSeconds - 5, skewSeconds + 5);
    }

    [Fact]
    public async Task Content_related_answers_are_acknowledged()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(key, server.Salt, new MtProtoSessionOptions { AckDelay = TimeSpan.FromMilliseconds(20) });
        var response = await session.InvokeAsync(ClientMessages.EchoQuery([9])).WaitAsync(Limit);
        long answerId = response.Message.MsgId;
        Assert.True(response.Message.IsContentRelated);
        var deadline = DateTime.UtcNow + Limit;
        while (!AckedByClient(server, answerId) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(AckedByClient(server, answerId));
        // new_session_created (content-related) is acknowledged too.
        Assert.True(AckedByClient(server, session.History.First(m => m.ConstructorId == ConstructorIds.NewSessionCreated).MsgId));
        // msgs_ack goes with an even seq_no.
        Assert.All(server.Received.Where(m => BinaryPrimitives.ReadUInt32LittleEndian(m.Body) == ConstructorIds.MsgsAck), m => Assert.Equal(0, m.SeqNo & 1));
    }

    private static bool AckedByClient(ScriptedServer server, long msgId) =>
        server.Received.Any(m => BinaryPrimitives.ReadUInt32LittleEndian(m.Body) == ConstructorIds.MsgsAck
            && ServiceSchema.TryRead(m.Body, out var o, out _) && ((MsgsAck)o!).MsgIds.Contains(msgId));

    [Fact]
    public async Task Acks_ride_in_a_container_with_the_next_call()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(key, server.Salt, new MtProtoSessionOptions { AckDelay = TimeSpan.FromSeconds(30) });
        await session.InvokeAsync(ClientMessages.EchoQuery([1])).WaitAsync(Limit);
        await session.InvokeAsync(ClientMessages.EchoQuery([2])).WaitAsync(Limit);
        var containers = server.Received.Where(m => BinaryPrimitives.ReadUInt32LittleEndian(m.Body) == ConstructorIds.MsgContainer).ToArray();
        var container = Assert.Single(containers);
        Assert.True(ClientMessages.TryReadContainer(container.Body, out var items, out _));
        Assert.Equal(2, items.Count);
        Assert.Equal(ConstructorIds.MsgsAck, BinaryPrimitives.ReadUInt32LittleEndian(items[0].Body.Span));
        Assert.Equal(0, items[0].SeqNo & 1);
        Assert.Equal(1, items[1].SeqNo & 1);
        Assert.All(items, i => Assert.True(i.MsgId < container.MsgId));
        Assert.True(container.SeqNo >= items.Max(i => i.SeqNo));
    }

    [Fact]
    public async Task Calls_in_one_container_get_their_own_answers()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(key, server.Salt);
        var tasks = session.SendInContainer([
            (new Ping(1).ToBytes(), false),
            (ClientMessages.EchoQuery([7, 7]), true),
            (new Ping(2).ToBytes(), false),
            (new GetFutureSalts(3).ToBytes(), false),
        ]);
        var answers = await Task.WhenAll(tasks).WaitAsync(Limit);
        Assert.Equal(1, Assert.IsType<Pong>(answers[0].Object).PingId);
        Assert.Equal(ClientMessages.EchoQuery([7, 7]), answers[1].Response!.Result.ToArray());
        Assert.Equal(2, Assert.IsType<Pong>(answers[2].Object).PingId);
        Assert.Equal(server.Salt, Assert.Single(Assert.IsType<FutureSalts>(answers[3].Object).Salts).Salt);
        // The server answered several of them in containers: items were dispatched one by one.
        Assert.Contains(session.History, m => m.ContainerMsgId is not null);
    }

    [Fact]
    public async Task Gzip_results_are_inflated_and_rpc_errors_reported()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(key, server.Salt);
        var query = new byte[2000];
        BinaryPrimitives.WriteUInt32LittleEndian(query, ScriptedServer.GzipEchoId);
        var gz = await session.InvokeAsync(query).WaitAsync(Limit);
        Assert.Equal(query, gz.Result.ToArray());
        var error = await session.InvokeAsync(BitConverter.GetBytes(0x12345678u)).WaitAsync(Limit);
        Assert.True(error.IsError);
        Assert.Equal(400, error.Error!.ErrorCode);
        Assert.Equal("METHOD_INVALID", error.Error.ErrorMessage);
        Assert.Throws<RpcErrorException>(() => error.GetResultOrThrow());
    }

    [Fact]
    public async Task Destroy_session_of_another_session_then_none()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var a = connection.OpenSession(key, server.Salt);
        var b = connection.OpenSession(key, server.Salt);
        await b.PingAsync().WaitAsync(Limit);
        await b.DisposeAsync(); // sends its pending ack (of new_session_created) first: no message of b may follow the destroy
        Assert.True(await a.DestroySessionAsync(b.SessionId).WaitAsync(Limit));
        Assert.False(await a.DestroySessionAsync(b.SessionId).WaitAsync(Limit));
        Assert.False(await a.DestroySessionAsync(12345, contentRelated: true).WaitAsync(Limit));
    }

    [Fact]
    public async Task Unanswered_call_times_out_and_cancellation_is_honoured()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(key, server.Salt, new MtProtoSessionOptions { CallTimeout = TimeSpan.FromMilliseconds(400) });
        var started = DateTime.UtcNow;
        await Assert.ThrowsAsync<TimeoutException>(() => session.InvokeAsync(BitConverter.GetBytes(ScriptedServer.SilentId)).WaitAsync(Limit));
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 0.3, 5);
        Assert.Equal(0, session.PendingCount);
        // Cancelled by hand once the call is out, not by a timer: on a starved thread pool a 100 ms timer and the 400 ms
        // call timeout could fire in either order.
        using var cts = new CancellationTokenSource();
        var cancelled = session.InvokeAsync(BitConverter.GetBytes(ScriptedServer.SilentId), cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Limit));
        Assert.Equal(0, session.PendingCount);
        // A token cancelled before the call: the call fails at once and waits for nothing.
        var early = session.InvokeAsync(BitConverter.GetBytes(ScriptedServer.SilentId), cts.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => early.WaitAsync(Limit));
        Assert.Equal(0, session.PendingCount);
        // The session still works.
        await session.PingAsync().WaitAsync(Limit);
    }

    [Fact]
    public async Task Transport_error_fails_pending_calls_and_the_connection()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(key, server.Salt);
        await session.PingAsync().WaitAsync(Limit);
        var silent = session.InvokeAsync(BitConverter.GetBytes(ScriptedServer.SilentId));
        var kill = session.InvokeAsync(BitConverter.GetBytes(ScriptedServer.KillId));
        var e = await Assert.ThrowsAsync<TransportErrorException>(() => kill.WaitAsync(Limit));
        Assert.Equal(-404, e.Code);
        await Assert.ThrowsAsync<TransportErrorException>(() => silent.WaitAsync(Limit));
        Assert.Equal(-404, connection.LastTransportError);
        await Assert.ThrowsAsync<TransportErrorException>(() => connection.Completion.WaitAsync(Limit));
        Assert.Throws<TransportErrorException>(() => session.SendRaw(new RawMessage(new Ping(1).ToBytes())));
    }

    [Fact]
    public async Task Unknown_key_gets_404()
    {
        await using var server = new ScriptedServer();
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(new AuthKey(RandomNumberGenerator.GetBytes(256)));
        var e = await Assert.ThrowsAsync<TransportErrorException>(() => session.PingAsync().WaitAsync(Limit));
        Assert.Equal(-404, e.Code);
    }

    [Fact]
    public async Task Disposal_fails_pending_calls()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        var connection = await Connect(server);
        var session = connection.OpenSession(key, server.Salt);
        var silent = session.InvokeAsync(BitConverter.GetBytes(ScriptedServer.SilentId));
        await session.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => silent.WaitAsync(Limit));
        var other = connection.OpenSession(key, server.Salt);
        var silent2 = other.InvokeAsync(BitConverter.GetBytes(ScriptedServer.SilentId));
        await connection.DisposeAsync();
        await Assert.ThrowsAsync<ConnectionClosedException>(() => silent2.WaitAsync(Limit));
        await connection.Completion.WaitAsync(Limit); // closed by us: completes without error
        Assert.False(connection.IsOpen);
        Assert.Throws<ConnectionClosedException>(() => connection.OpenSession(key));
    }

    [Fact]
    public async Task Raw_messages_and_observation()
    {
        await using var server = new ScriptedServer();
        var key = PresharedKey(server);
        await using var connection = await Connect(server);
        await using var session = connection.OpenSession(key, server.Salt);
        var seen = new List<ReceivedMessage>();
        session.MessageReceived += m =>
        {
            lock (seen) seen.Add(m);
        };
        // A ping with a chosen salt: the server answers bad_server_salt naming that message.
        var wait = session.WaitForMessageAsync(m => m.ConstructorId == ConstructorIds.BadServerSalt, Limit);
        var sent = session.SendRaw(new RawMessage(new Ping(3).ToBytes()) { Salt = 999 });
        var bad = Assert.IsType<BadServerSalt>((await wait).TryParse());
        Assert.Equal(sent.MsgId, bad.BadMsgId);
        Assert.Equal(sent.SeqNo, bad.BadMsgSeqNo);
        // A chosen msg_id and seq_no go out exactly.
        long id = session.NextMsgId();
        var pong = session.WaitForMessageAsync(m => m.ConstructorId == ConstructorIds.Pong, Limit);
        session.SendRaw(new RawMessage(new Ping(4).ToBytes()) { MsgId = id, SeqNo = 0 });
        Assert.Equal(id, Assert.IsType<Pong>((await pong).TryParse()).MsgId);
        Assert.Contains(server.Received, m => m.MsgId == id && m.SeqNo == 0);
        lock (seen) Assert.Contains(seen, m => m.ConstructorId == ConstructorIds.Pong);
        // History: already-received messages can be awaited.
        Assert.Equal(ConstructorIds.BadServerSalt, (await session.WaitForMessageAsync(m => m.ConstructorId == ConstructorIds.BadServerSalt, Limit, includeHistory: true)).ConstructorId);
        await Assert.ThrowsAsync<TimeoutException>(() => session.WaitForMessageAsync(_ => false, TimeSpan.FromMilliseconds(100)));
    }
}
