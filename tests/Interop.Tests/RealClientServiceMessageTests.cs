using System.Globalization;
using System.Text.Json;
using MtActors.Interop.Tests.Clients;
using MtActors.Interop.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MtActors.Interop.Tests;

/// <summary>
/// The service messages of docs/session-semantics.md ("Every service message") as real clients use them against an
/// MtActors server: GramJS through TelegramClient and raw requests, mtcute through its own automatic traffic
/// (get_future_salts, msgs_state_req for an unanswered query, destroy_session of its old session after a reset,
/// destroy_auth_key and re-keying after -404). Scenarios: tests/Interop.Tests/js/README.md.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RealClientServiceMessageTests(ServerFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    private MtActorsTestServer Server => fixture.Server;

    [Fact]
    public async Task GramJs_TelegramClient_connects_through_initConnection_and_pings()
    {
        // TelegramClient.connect() = key exchange + invokeWithLayer(initConnection(help.getConfig)); first message salt 0.
        var run = await RunAsync(NodeClient.GramJs, Options("connect-ping") with { Mode = "client" }, retry: true);

        Assert.True(await Server.AuthKeyExistsAsync(run.AuthKeyId!.Value), run.Describe());
        Assert.False(string.IsNullOrEmpty(run.Get("pongMsgId")), run.Describe());
        RealClientTests.AssertRecoveredFromBadSalt(run, "BadServerSalt");
        RealClientTests.AssertReceived(run, "NewSessionCreated");
    }

    [Fact]
    public async Task GramJs_destroys_another_session_of_its_key_with_bare_answers()
    {
        var run = await RunAsync(NodeClient.GramJs, Options("destroy-session") with { AuthKey = await Server.CreatePreSharedKeyAsync() });

        var answers = run.Result.GetProperty("destroy").EnumerateArray()
            .Select(d => (Target: d.GetProperty("target").GetString(), Answer: d.GetProperty("answer").GetString(), Wrapped: d.GetProperty("wrapped").GetBoolean()))
            .ToList();
        Assert.Equal(
            [("live session B", "DestroySessionOk", false), ("destroyed session B", "DestroySessionNone", false), ("unknown session", "DestroySessionNone", false)],
            answers);
        // B's next message starts its session again.
        Assert.Equal("pong", run.Get("pingBAfterDestroy"));
    }

    [Fact]
    public async Task GramJs_msgs_state_req_gets_a_status_byte_per_id()
    {
        var run = await RunAsync(NodeClient.GramJs, Options("msgs-state") with { AuthKey = await Server.CreatePreSharedKeyAsync() });

        var states = States(run.Result.GetProperty("states"));
        Assert.Equal(4, states["answered"] & 7); // received (+ flags: an answered RPC)
        Assert.Equal(2, states["never-sent"]);
        Assert.Equal(3, states["too-high"]);
        Assert.Contains(states["too-low"], new[] { 1, 2 });
    }

    [Theory]
    [InlineData(600, 17)]
    [InlineData(-600, 16)]
    public async Task GramJs_recovers_from_a_wrong_clock(int skew, int code)
    {
        var run = await RunAsync(NodeClient.GramJs, Options("clock-skew") with
        {
            AuthKey = await Server.CreatePreSharedKeyAsync(),
            Extra = new Dictionary<string, string> { ["skew"] = skew.ToString(CultureInfo.InvariantCulture) },
        });

        Assert.Contains(code, Ints(run.Result.GetProperty("badMsgCodes")));
        Assert.False(string.IsNullOrEmpty(run.Get("pongMsgId")), "the ping after the correction was answered\n" + run.Describe());
    }

    [Fact]
    public async Task GramJs_ping_delay_disconnect_closes_the_connection_after_the_delay()
    {
        var run = await RunAsync(NodeClient.GramJs, Options("ping-delay-disconnect") with
        {
            AuthKey = await Server.CreatePreSharedKeyAsync(),
            Extra = new Dictionary<string, string> { ["delay"] = "2" },
        });

        // Closed by the server (the driver waits for it), and not before the delay (measured from the pong).
        Assert.True(int.Parse(run.Get("closedAfterMs")!, CultureInfo.InvariantCulture) >= 1500, run.Describe());
    }

    [Fact]
    public async Task Mtcute_gets_future_salts_once_and_acknowledges_with_odd_msgs_ack()
    {
        var run = await RunAsync(NodeClient.Mtcute, Options("future-salts"));

        var now = Long(run, "now");
        var salts = run.Result.GetProperty("salts").EnumerateArray().ToList();
        Assert.InRange(salts.Count, 3, 64);
        Assert.True(salts.Count(s => s.GetProperty("validSince").GetInt64() > now) >= 2, run.Describe());
        Assert.Equal("false", run.Get("wrapped"));
        Assert.Equal("1", run.Get("getFutureSaltsSent")); // enough salts: mtcute did not ask again
        // mtcute acknowledges with content-related (odd) msgs_ack; the server accepts them (no bad_msg 34 or others).
        Assert.Contains(run.Trace.GetProperty("out").EnumerateArray(), e => e.TryGetProperty("type", out var t) && t.GetString() == "mt_msgs_ack");
        Assert.DoesNotContain(run.Trace.GetProperty("in").EnumerateArray(), e => e.TryGetProperty("type", out var t) && t.GetString() == "mt_bad_msg_notification");
    }

    [Fact]
    public async Task Mtcute_asks_msgs_state_req_for_a_lost_answer_and_recovers()
    {
        var run = await RunAsync(NodeClient.Mtcute, Options("msgs-state"));

        // The automatic msgs_state_req after 1.5 s without an answer: received, RPC, answer generated.
        var info = Assert.Single(run.Result.GetProperty("automatic").GetProperty("stateInfos").EnumerateArray());
        Assert.False(info.GetProperty("wrapped").GetBoolean());
        var status = Assert.Single(Ints(info.GetProperty("info")));
        Assert.Equal(4, status & 7);
        Assert.Equal(32 | 64, status & (32 | 64));
        Assert.Equal("400", run.Get("recoveredRpc.code"));

        var manual = States(run.Result.GetProperty("manual").GetProperty("states"));
        Assert.Equal(2, manual["never-sent"]);
        Assert.Equal(3, manual["too-high"]);
    }

    [Fact]
    public async Task Mtcute_destroys_its_old_session_after_a_reset()
    {
        var run = await RunAsync(NodeClient.Mtcute, Options("reset-session"));

        Assert.Equal("true", run.Get("destroySent"));
        AssertBareDestroyAnswer(run, "destroy_session_ok");
        Assert.Null(await Server.GetSessionAsync(run.AuthKeyId!.Value, Long(run, "oldSessionId")));
        Assert.NotNull(await Server.GetSessionAsync(run.AuthKeyId!.Value, Long(run, "newSessionId")));
    }

    [Fact]
    public async Task Mtcute_destroy_auth_key_then_re_keys_after_404()
    {
        var run = await RunAsync(NodeClient.Mtcute, Options("destroy-auth-key"));

        AssertBareDestroyAnswer(run, "destroy_auth_key_ok");
        Assert.Contains(404, Ints(run.Result.GetProperty("transportErrors")));
        Assert.Equal("true", run.Get("newKeyCreated"));
        Assert.False(await Server.AuthKeyExistsAsync(Long(run, "authKeyIdBefore")));
        Assert.True(await Server.AuthKeyExistsAsync(Long(run, "authKeyIdAfter")));
    }

    [Theory]
    [InlineData(600, 17)]
    [InlineData(-600, 16)]
    public async Task Mtcute_recovers_from_a_wrong_clock(int skew, int code)
    {
        var run = await RunAsync(NodeClient.Mtcute, Options("clock-skew") with
        {
            Extra = new Dictionary<string, string> { ["skew"] = skew.ToString(CultureInfo.InvariantCulture) },
        });

        Assert.Contains(code, Ints(run.Result.GetProperty("badMsgCodes")));
        Assert.Equal("400", run.Get("rpcAfterSkew.code")); // the call after the correction was answered
    }

    private ClientOptions Options(string scenario) => new()
    {
        Port = Server.Port,
        Scenario = scenario,
        RsaKeyPath = Server.PublicKeyPath,
        Timeout = RunTimeout,
    };

    /// <summary>Runs a scenario (GramJS creating a key: one rerun for its 255-byte-key failure), logs it, requires ok.</summary>
    private async Task<ClientRun> RunAsync(NodeClient client, ClientOptions options, bool retry = false)
    {
        var run = retry ? await RetryOn255ByteKey.RunAsync(client, options) : await client.RunAsync(options);
        output.WriteLine(run.Describe(stderrTail: 2000));
        return run.EnsureOk();
    }

    private static void AssertBareDestroyAnswer(ClientRun run, string answer)
    {
        Assert.Equal(answer, run.Get("destroy.answer"));
        Assert.Equal("false", run.Get("destroy.wrapped"));
    }

    private static long Long(ClientRun run, string path) => long.Parse(run.Get(path)!, CultureInfo.InvariantCulture);

    private static Dictionary<string, int> States(JsonElement states) =>
        states.EnumerateArray().ToDictionary(s => s.GetProperty("label").GetString()!, s => s.GetProperty("status").GetInt32());

    private static List<int> Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToList();
}
