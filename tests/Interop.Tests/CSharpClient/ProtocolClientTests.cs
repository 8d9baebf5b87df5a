using System.Text.Json.Nodes;
using MtActors.Grains;
using MtActors.Interop.Tests.Infrastructure;
using MtActors.Protocol.Client;
using MtActors.Protocol.Client.Handshake;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Transport;

namespace MtActors.Interop.Tests.CSharpClient;

/// <summary>
/// End to end through the real gateway and session grains with the production client library (src/Protocol.Client):
/// new keys over every transport, pre-shared keys, bad_server_salt recovery, pipelining, destroy_session.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ProtocolClientTests(ServerFixture fixture)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private MtActorsTestServer Server => fixture.Server;

    private ClientHandshakeOptions Handshake(RsaPublicKey key) => new() { ServerKeys = [key], DcId = 2 };

    private Task<MtProtoConnection> Connect(TransportKind kind = TransportKind.Intermediate, bool obfuscated = false) =>
        MtProtoConnection.ConnectAsync("127.0.0.1", Server.Port, new MtProtoConnectionOptions { Transport = kind, Obfuscated = obfuscated });

    [Theory]
    [InlineData(TransportKind.Abridged, false)]
    [InlineData(TransportKind.Intermediate, false)]
    [InlineData(TransportKind.PaddedIntermediate, false)]
    [InlineData(TransportKind.Full, false)]
    [InlineData(TransportKind.Abridged, true)]
    [InlineData(TransportKind.Intermediate, true)]
    [InlineData(TransportKind.PaddedIntermediate, true)]
    public async Task New_key_then_ping_and_echo(TransportKind kind, bool obfuscated)
    {
        using var publicKey = RsaPublicKey.FromPem(Server.PublicKeyPem);
        await using var connection = await Connect(kind, obfuscated);
        var key = await connection.CreateAuthKeyAsync(Handshake(publicKey)).WaitAsync(Limit);
        var stored = await Server.Grains.GetAuthKeyGrain(key.AuthKeyId).Get();
        Assert.NotNull(stored);
        Assert.Equal(key.Key.Key.ToArray(), stored.Key);

        await using var session = connection.OpenSession(key);
        Assert.Equal(77, (await session.PingAsync(77).WaitAsync(Limit)).PingId);
        var echo = await session.InvokeAsync(ClientMessages.EchoQuery("through the grain"u8)).WaitAsync(Limit);
        Assert.False(echo.IsError, echo.Error?.ErrorMessage);
        Assert.Equal(ClientMessages.EchoQuery("through the grain"u8), echo.Result.ToArray());
        Assert.NotNull(session.LastNewSession);
        Assert.NotNull(await Server.Grains.GetSessionGrain(key.AuthKeyId, session.SessionId).GetInfo());
    }

    [Fact]
    public async Task Pre_shared_key_with_salt_zero_recovers_through_bad_server_salt()
    {
        var key = new AuthKey(await Server.CreatePreSharedKeyAsync());
        await using var connection = await Connect();
        await using var session = connection.OpenSession(key, salt: 0);
        var badSalt = session.WaitForMessageAsync(m => m.ConstructorId == ConstructorIds.BadServerSalt, Limit);
        Assert.Equal(5, (await session.PingAsync(5).WaitAsync(Limit)).PingId);
        var bad = Assert.IsType<BadServerSalt>((await badSalt).TryParse());
        Assert.Equal(48, bad.ErrorCode);
        Assert.Equal(bad.NewServerSalt, session.Salt);
        Assert.True(session.Resends >= 1);

        // A wrong salt later (as after a rotation) is recovered the same way, with many calls in flight.
        session.Salt = 0x0102030405060708;
        var calls = Enumerable.Range(0, 40).Select(i => session.InvokeAsync(ClientMessages.EchoQuery([(byte)i]))).ToArray();
        var answers = await Task.WhenAll(calls).WaitAsync(Limit);
        for (int i = 0; i < answers.Length; i++) Assert.Equal(ClientMessages.EchoQuery([(byte)i]), answers[i].Result.ToArray());
        Assert.Equal(bad.NewServerSalt, session.Salt);
    }

    [Fact]
    public async Task Many_calls_in_flight_on_several_sessions_and_a_container()
    {
        var key = new AuthKey(await Server.CreatePreSharedKeyAsync());
        await using var connection = await Connect(TransportKind.Abridged);
        var sessions = Enumerable.Range(0, 4).Select(_ => connection.OpenSession(key)).ToArray();
        var calls = sessions.SelectMany(s => Enumerable.Range(0, 50).Select(async i =>
        {
            var payload = BitConverter.GetBytes(s.SessionId + i);
            Assert.Equal(ClientMessages.EchoQuery(payload), (await s.InvokeAsync(ClientMessages.EchoQuery(payload))).Result.ToArray());
        }));
        await Task.WhenAll(calls).WaitAsync(Limit);

        var inOne = sessions[0].SendInContainer([
            (new Ping(1).ToBytes(), false),
            (ClientMessages.EchoQuery([4, 2]), true),
            (new GetFutureSalts(4).ToBytes(), false),
        ]);
        var answers = await Task.WhenAll(inOne).WaitAsync(Limit);
        Assert.Equal(1, Assert.IsType<Pong>(answers[0].Object).PingId);
        Assert.Equal(ClientMessages.EchoQuery([4, 2]), answers[1].Response!.Result.ToArray());
        Assert.True(Assert.IsType<FutureSalts>(answers[2].Object).Salts.Length >= 3);
        foreach (var s in sessions) await s.DisposeAsync();
    }

    [Fact]
    public async Task Destroy_session_ok_then_none_and_the_grain_state_is_gone()
    {
        var key = new AuthKey(await Server.CreatePreSharedKeyAsync());
        await using var connection = await Connect();
        await using var a = connection.OpenSession(key);
        var b = connection.OpenSession(key);
        await b.PingAsync().WaitAsync(Limit);
        long bId = b.SessionId;
        await b.DisposeAsync(); // its pending acks go first: nothing of b follows the destroy
        await a.PingAsync().WaitAsync(Limit);
        Assert.NotNull(await Server.Grains.GetSessionGrain(key.Id, bId).GetInfo());

        Assert.True(await a.DestroySessionAsync(bId).WaitAsync(Limit));
        Assert.Null(await Server.Grains.GetSessionGrain(key.Id, bId).GetInfo());
        Assert.False(await a.DestroySessionAsync(bId).WaitAsync(Limit));
        Assert.False(await a.DestroySessionAsync(bId ^ 0x5555, contentRelated: true).WaitAsync(Limit));
    }

    [Fact]
    public async Task Unknown_key_gets_404()
    {
        await using var connection = await Connect();
        await using var session = connection.OpenSession(new AuthKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(256)));
        var e = await Assert.ThrowsAsync<MtActors.Protocol.Client.TransportErrorException>(() => session.PingAsync().WaitAsync(Limit));
        Assert.Equal(-404, e.Code);
    }

    // ---------------------------------------------------------------- mtactors bench

    private async Task<(int Code, string Out, string Err)> Bench(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await global::MtActors.Client.Cli.RunAsync(["bench", .. args], output, error, _ => null).WaitAsync(TimeSpan.FromSeconds(120));
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Bench_echo_with_baseline_prints_both_and_the_ratio()
    {
        var (code, stdout, stderr) = await Bench("--port", Server.Port.ToString(), "--rsa-key", Server.PublicKeyPath, "--mode", "echo", "--payload", "64",
            "--connections", "2", "--sessions", "2", "--depth", "4", "--duration", "1", "--warmup", "0.2", "--baseline", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal("echo", json["mode"]!.GetValue<string>());
        Assert.Equal(2, json["keys_created"]!.GetValue<int>());
        Assert.True(json["result"]!["operations"]!.GetValue<long>() > 0);
        Assert.Equal(0, json["result"]!["errors"]!.GetValue<long>());
        Assert.True(json["baseline"]!["operations"]!.GetValue<long>() > 0);
        Assert.Equal(16, json["result"]!["in_flight"]!.GetValue<int>());
        Assert.True(json["result"]!["process_cpu_us_per_op"]!.GetValue<double>() > 0); // the bench's own CPU per round trip
        Assert.True(json["baseline"]!["process_cpu_seconds"]!.GetValue<double>() > 0);
        Assert.True(json["ratio"]!["throughput"]!.GetValue<double>() > 0);
        Assert.Contains("mtproto echo", stderr); // progress lines
    }

    [Fact]
    public async Task Bench_rate_paces_the_round_trips_and_rounds_interleave_baseline_and_mtproto()
    {
        // Paced: never more than the rate (slots are 1/rate apart from the start), plus the calls in flight.
        var (code, stdout, stderr) = await Bench("--port", Server.Port.ToString(), "--rsa-key", Server.PublicKeyPath,
            "--connections", "2", "--depth", "4", "--duration", "2", "--warmup", "0", "--rate", "100", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal(100, json["rate_target"]!.GetValue<double>());
        long operations = json["result"]!["operations"]!.GetValue<long>();
        Assert.InRange(operations, 1, (long)(100 * json["result"]!["seconds"]!.GetValue<double>()) + 8 + 1);

        (code, stdout, stderr) = await Bench("--port", Server.Port.ToString(), "--rsa-key", Server.PublicKeyPath,
            "--connections", "1", "--duration", "0.5", "--warmup", "0", "--baseline", "--rounds", "2", "--json");
        Assert.True(code == 0, stderr);
        json = JsonNode.Parse(stdout)!;
        var rounds = json["rounds"]!.AsArray();
        Assert.Equal(2, rounds.Count);
        Assert.All(rounds, r => Assert.True(r!["ratio"]!["throughput"]!.GetValue<double>() > 0));
        Assert.Contains(rounds, r => r!["ratio"]!["throughput"]!.GetValue<double>() == json["ratio"]!["throughput"]!.GetValue<double>());

        var usage = await Bench("--rounds", "2");
        Assert.Equal(2, usage.Code);
        Assert.Contains("--rounds needs --baseline", usage.Err);
    }

    [Fact]
    public async Task Bench_key_cache_skips_handshakes_on_the_second_run_and_handshakes_mode_counts_keys()
    {
        var cache = Path.Combine(Path.GetTempPath(), $"mtactors-bench-keys-{Guid.NewGuid():N}.json");
        try
        {
            string[] common = ["--port", Server.Port.ToString(), "--rsa-key", Server.PublicKeyPath, "--connections", "2", "--count", "50", "--warmup", "0",
                "--transport", "abridged", "--key-cache", cache, "--json", "--no-progress"];
            var first = await Bench(common);
            Assert.True(first.Code == 0, first.Err);
            Assert.Equal(2, JsonNode.Parse(first.Out)!["keys_created"]!.GetValue<int>());
            Assert.Equal(50, JsonNode.Parse(first.Out)!["result"]!["operations"]!.GetValue<long>());
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cache));
            var second = await Bench(common);
            Assert.True(second.Code == 0, second.Err);
            Assert.Equal(0, JsonNode.Parse(second.Out)!["keys_created"]!.GetValue<int>());
            Assert.Equal(2, JsonNode.Parse(second.Out)!["keys_reused"]!.GetValue<int>());
        }
        finally
        {
            File.Delete(cache);
        }

        var hs = await Bench("--port", Server.Port.ToString(), "--rsa-key", Server.PublicKeyPath, "--handshakes", "--connections", "2", "--count", "4",
            "--warmup", "0", "--no-progress");
        Assert.True(hs.Code == 0, hs.Err);
        Assert.Contains("handshakes: 4 auth keys", hs.Out);
    }

    [Fact]
    public async Task Bench_errors_are_clear()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var unreachable = await Bench("--port", closedPort.ToString(), "--rsa-key", Server.PublicKeyPath, "--duration", "1");
        Assert.Equal(3, unreachable.Code);
        Assert.Contains($"cannot connect to 127.0.0.1:{closedPort}", unreachable.Err);

        var noKey = await Bench("--port", Server.Port.ToString(), "--rsa-key", "/nonexistent/key.pem");
        Assert.Equal(2, noKey.Code);
        Assert.Contains("cannot read --rsa-key", noKey.Err);

        using var other = System.Security.Cryptography.RSA.Create(2048);
        var wrongKey = Path.GetTempFileName();
        try
        {
            File.WriteAllText(wrongKey, other.ExportRSAPublicKeyPem());
            var refused = await Bench("--port", Server.Port.ToString(), "--rsa-key", wrongKey, "--duration", "1", "--no-progress");
            Assert.Equal(1, refused.Code);
            Assert.Contains("NoKnownFingerprint", refused.Err);
        }
        finally
        {
            File.Delete(wrongKey);
        }

        var usage = await Bench("--transport", "full", "--obfuscated");
        Assert.Equal(2, usage.Code);
        Assert.Contains("--obfuscated does not go with --transport full", usage.Err);
    }
}
