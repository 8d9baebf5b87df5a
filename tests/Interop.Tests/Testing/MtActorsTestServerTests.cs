using System.Buffers.Binary;
using System.Net.Sockets;
using MtActors.Grains;
using MtActors.Grains.Api;
using MtActors.Protocol.Client;
using MtActors.Protocol.Client.Handshake;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Messages;
using MtActors.Silo.Rsa;
using Npgsql;

namespace MtActors.Interop.Tests.TestingLibrary;

/// <summary>
/// MtActors.Testing's server, driven by the project's C# MTProto client (src/Protocol.Client): what it exposes is what
/// a client needs, the storage choice holds, API handlers plug in, several silos each listen, stopping frees the port.
/// </summary>
public sealed class MtActorsTestServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static async Task<(MtProtoConnection Connection, MtProtoSession Session, long AuthKeyId)> ConnectWithNewKeyAsync(
        MtActorsTestServer server, int? port = null)
    {
        var connection = await MtProtoConnection.ConnectAsync(server.Address, port ?? server.Port);
        using var publicKey = RsaPublicKey.FromPem(server.PublicKeyPem);
        var key = await connection.CreateAuthKeyAsync(new ClientHandshakeOptions { ServerKeys = [publicKey], DcId = server.DcId })
            .WaitAsync(Bound);
        var session = connection.OpenSession(key);
        return (connection, session, key.Key.Id);
    }

    [Fact]
    public async Task In_memory_server_takes_a_new_key_and_a_ping_and_shows_the_session()
    {
        await using var server = await MtActorsTestServer.StartAsync();
        Assert.Equal(MtActorsStorage.InMemory, server.Storage);
        Assert.Null(server.ConnectionString);
        Assert.Equal("127.0.0.1", server.Address);
        Assert.True(server.Port > 0);
        Assert.Equal(2, server.DcId);
        Assert.StartsWith("-----BEGIN RSA PUBLIC KEY-----", server.PublicKeyPem);
        Assert.Equal(server.PublicKeyPem.Trim(), (await File.ReadAllTextAsync(server.PublicKeyPath)).Trim());
        Assert.Equal(RsaServerKey.ComputeFingerprint(server.PublicKeyPem), server.Fingerprint);
        Assert.True(RsaKeyFiles.IsMtcuteCompatible(server.Fingerprint));

        var (connection, session, authKeyId) = await ConnectWithNewKeyAsync(server);
        await using (connection)
        await using (session)
        {
            var pong = await session.PingAsync(42).WaitAsync(Bound);
            Assert.Equal(42, pong.PingId);
            Assert.True(await server.AuthKeyExistsAsync(authKeyId));
            Assert.Contains(session.SessionId, await server.GetSessionIdsAsync(authKeyId));
            Assert.NotNull(await server.GetSessionAsync(authKeyId, session.SessionId));
        }
    }

    [Fact]
    public async Task In_memory_storage_serves_a_deactivated_session_again_from_its_state()
    {
        // The session grain inserts a new session's row first and reads only when the insert finds one: the memory
        // storage must refuse that insert the same way PostgreSQL does.
        await using var server = await MtActorsTestServer.StartAsync();
        var key = await server.CreateAuthKeyAsync();
        var grain = server.Grains.GetSessionGrain(key.Id, 77);
        var salt = (await grain.GetFutureSalts(1)).Salts[0].Salt;
        IncomingFrame Ping(int k) => new(salt, (MsgIds.FromTime(DateTimeOffset.UtcNow) & ~3L) + 4 * k, 1,
            new MtActors.Protocol.Schema.Ping(k).ToBytes(), k);

        var created = await grain.ProcessFrame(Ping(0)).WaitAsync(Bound);
        var uniqueId = (await grain.GetInfo())!.UniqueId;
        Assert.Equal(FrameDisposition.Continue, created.Disposition);
        await server.Cluster.DeactivateAsync(grain).WaitAsync(Bound);

        var again = await grain.ProcessFrame(Ping(1)).WaitAsync(Bound);
        Assert.Equal(FrameDisposition.Continue, again.Disposition);
        Assert.Equal(uniqueId, (await grain.GetInfo())!.UniqueId);
        Assert.Equal(77L, Assert.Single(await server.GetSessionIdsAsync(key.Id)));
    }

    [Fact]
    public async Task A_pre_shared_key_works_without_a_key_exchange()
    {
        await using var server = await MtActorsTestServer.StartAsync();
        var key = await server.CreateAuthKeyAsync();
        Assert.Equal(256, key.Key.Length);
        Assert.Equal(AuthKey.ComputeId(key.Key), key.Id);
        Assert.Equal(512, key.Hex.Length);

        await using var connection = await MtProtoConnection.ConnectAsync(server.Address, server.Port);
        await using var session = connection.OpenSession(new AuthKey(key.Key)); // salt 0: the server corrects it
        await session.PingAsync().WaitAsync(Bound);
        Assert.Contains(session.SessionId, await server.GetSessionIdsAsync(key.Id));

        // Registering the same key again is fine; a key of the wrong size is refused.
        Assert.Equal(key.Id, await server.RegisterAuthKeyAsync(key.Key));
        await Assert.ThrowsAsync<ArgumentException>(() => server.RegisterAuthKeyAsync(new byte[255]));
    }

    [Fact]
    public async Task Api_handlers_registered_in_configure_services_answer_the_client()
    {
        const uint Method = 0x7e57ab1e;
        await using var server = await MtActorsTestServer.StartAsync(o =>
            o.ConfigureServices = services => services.AddMtProtoApiHandler(Method, new DoublingHandler()));
        var (connection, session, _) = await ConnectWithNewKeyAsync(server);
        await using (connection)
        await using (session)
        {
            var query = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(query, Method);
            BinaryPrimitives.WriteInt32LittleEndian(query.AsSpan(4), 21);
            var response = await session.InvokeAsync(query).WaitAsync(Bound);
            Assert.False(response.IsError, response.Error?.ToString());
            Assert.Equal(42, BinaryPrimitives.ReadInt32LittleEndian(response.Result.Span[4..]));
        }
    }

    private sealed class DoublingHandler : IMtProtoApiHandler
    {
        public ValueTask<ApiResult> HandleAsync(ApiRequest request, CancellationToken cancellationToken)
        {
            var answer = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(answer, 0x12345678); // any boxed object: a constructor id, then an int
            BinaryPrimitives.WriteInt32LittleEndian(answer.AsSpan(4), 2 * BinaryPrimitives.ReadInt32LittleEndian(request.Query.Span[4..]));
            return ValueTask.FromResult(ApiResult.Ok(answer));
        }
    }

    [Fact]
    public async Task Postgres_storage_keeps_the_state_in_rows_of_the_service_id()
    {
        await using var server = await MtActorsTestServer.StartAsync(o => o.Storage = MtActorsStorage.PostgreSql);
        Assert.NotNull(server.ConnectionString);
        var key = await server.CreateAuthKeyAsync();
        await using (var connection = await MtProtoConnection.ConnectAsync(server.Address, server.Port))
        await using (var session = connection.OpenSession(new AuthKey(key.Key)))
        {
            await session.PingAsync().WaitAsync(Bound);
        }

        await using var db = new NpgsqlConnection(server.ConnectionString);
        await db.OpenAsync();
        await using var rows = new NpgsqlCommand(
            "SELECT graintypestring FROM grain_state WHERE serviceid = @s AND (grainidn1 = @k OR grainidn0 = @k) ORDER BY 1", db);
        rows.Parameters.AddWithValue("s", server.ServiceId);
        rows.Parameters.AddWithValue("k", key.Id);
        var types = new List<string>();
        await using (var reader = await rows.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                types.Add(reader.GetString(0));
            }
        }

        Assert.Equal([GrainServices.AuthKeyStateName, GrainServices.SessionStateName], types);
    }

    [Fact]
    public async Task A_fixed_private_key_is_the_one_served()
    {
        using var key = ServerRsaKeys.GenerateClientCompatible();
        var pem = key.ExportPrivateKeyPem();
        await using var server = await MtActorsTestServer.StartAsync(o => o.RsaPrivateKeyPem = pem);
        Assert.Equal(key.Fingerprint, server.Fingerprint);
        Assert.Equal(key.ExportPublicKeyPem().Trim(), server.PublicKeyPem.Trim());
        var (connection, session, _) = await ConnectWithNewKeyAsync(server);
        await using (connection)
        await using (session)
        {
            await session.PingAsync().WaitAsync(Bound);
        }
    }

    [Fact]
    public async Task Two_silos_listen_on_two_ports_and_share_the_state()
    {
        await using var server = await MtActorsTestServer.StartAsync(o => o.Silos = 2);
        Assert.Equal(2, server.EndPoints.Count);
        Assert.NotEqual(server.EndPoints[0].Port, server.EndPoints[1].Port);
        Assert.Equal(server.Port, server.EndPoints[0].Port);

        // A key made through the second silo's endpoint, used through the first.
        var (connection, session, authKeyId) = await ConnectWithNewKeyAsync(server, server.EndPoints[1].Port);
        await using (connection)
        await using (session)
        {
            await session.PingAsync().WaitAsync(Bound);
        }

        await using var first = await MtProtoConnection.ConnectAsync(server.Address, server.EndPoints[0].Port);
        await using var again = first.OpenSession(session.AuthKey);
        await again.PingAsync().WaitAsync(Bound);
        var sessions = await server.GetSessionIdsAsync(authKeyId);
        Assert.Contains(session.SessionId, sessions);
        Assert.Contains(again.SessionId, sessions);
    }

    [Fact]
    public async Task Disposing_stops_the_endpoint_and_a_second_dispose_is_harmless()
    {
        var server = await MtActorsTestServer.StartAsync();
        var port = server.Port;
        var keyDirectory = server.KeyDirectory;
        await server.DisposeAsync();
        await server.DisposeAsync();
        Assert.False(Directory.Exists(keyDirectory));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync("127.0.0.1", port));
    }

    [Fact]
    public async Task Bad_options_are_refused_before_anything_starts()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => MtActorsTestServer.StartAsync(o => o.Silos = 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => MtActorsTestServer.StartAsync(o => o.DcId = 0));
        await Assert.ThrowsAsync<ArgumentException>(() => MtActorsTestServer.StartAsync(o => o.PostgresConnectionString = "Host=x"));
    }

    [Fact]
    public async Task The_fixture_starts_and_stops_one_server()
    {
        var fixture = new MtActorsFixture();
        Assert.Throws<InvalidOperationException>(() => fixture.Server);
        await fixture.InitializeAsync();
        var port = fixture.Server.Port;
        Assert.True(port > 0);
        await fixture.DisposeAsync();
        await ((IAsyncDisposable)fixture).DisposeAsync();
        Assert.Throws<InvalidOperationException>(() => fixture.Server);
    }
}
