using System.Security.Cryptography;
using System.Text.Json;
using MtActors.Interop.Tests.Clients;
using MtActors.Protocol.Crypto;

namespace MtActors.Interop.Tests;

/// <summary>
/// Shared by the driver self-tests: one RSA key, one pre-shared auth key, and two fake servers (bare and wrapped
/// destroy_* replies). The fake server (js/selftest/fake-server.cjs) is NOT MtActors: these tests prove that every
/// driver scenario and the C# runner work end to end, so the gateway tests can swap the fake server for the silo.
/// </summary>
public sealed class FakeServersFixture : IAsyncLifetime
{
    public RSA Rsa { get; } = RsaPem.CreateClientCompatibleKey();

    public RsaPem Pem { get; private set; } = null!;

    public byte[] PreSharedKey { get; } = CreateKey();

    public FakeMtprotoServer Bare { get; private set; } = null!;

    public FakeMtprotoServer Wrapped { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Pem = RsaPem.Write(Rsa);
        Bare = await FakeMtprotoServer.StartAsync(Rsa, wrapDestroyReplies: false, PreSharedKey);
        Wrapped = await FakeMtprotoServer.StartAsync(Rsa, wrapDestroyReplies: true, PreSharedKey);
    }

    public Task DisposeAsync()
    {
        Bare?.Dispose();
        Wrapped?.Dispose();
        Pem?.Dispose();
        Rsa.Dispose();
        return Task.CompletedTask;
    }

    private static byte[] CreateKey()
    {
        byte[] key = RandomNumberGenerator.GetBytes(256);
        key[0] |= 0x80;
        return key;
    }

    public ClientOptions Options(string scenario, string transport, bool preShared, FakeMtprotoServer? server = null) => new()
    {
        Port = (server ?? Bare).Port,
        Scenario = scenario,
        Transport = transport,
        RsaKeyPath = Pem.Path,
        AuthKey = preShared ? PreSharedKey : null,
        Timeout = TimeSpan.FromSeconds(20),
    };
}

public sealed class GramJsDriverTests(FakeServersFixture fx) : IClassFixture<FakeServersFixture>
{
    [Theory]
    [InlineData("sender", "full", false)]
    [InlineData("sender", "abridged", true)]
    [InlineData("sender", "obfuscated", false)]
    [InlineData("client", "full", true)]
    [InlineData("client", "obfuscated", false)]
    public async Task Connect_and_ping(string mode, string transport, bool preShared)
    {
        ClientRun run = (await NodeClient.GramJs.RunAsync(fx.Options("connect-ping", transport, preShared) with { Mode = mode })).EnsureOk();

        if (preShared) Assert.Equal(AuthKey.ComputeId(fx.PreSharedKey), run.AuthKeyId);
        Assert.NotNull(run.AuthKeyId);
        Assert.Equal(!preShared, run.Result.GetProperty("newAuthKey").GetBoolean());
        Assert.NotEqual("0", run.Get("salt")); // bad_server_salt / new_session_created handled
        Assert.NotNull(run.Get("pongMsgId"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Destroy_session_of_a_live_session_then_again_then_unknown(bool wrapped)
    {
        ClientRun run = (await NodeClient.GramJs.RunAsync(fx.Options("destroy-session", "full", false, wrapped ? fx.Wrapped : fx.Bare))).EnsureOk();

        JsonElement[] results = [.. run.Result.GetProperty("destroy").EnumerateArray()];
        Assert.Equal(["DestroySessionOk", "DestroySessionNone", "DestroySessionNone"], results.Select(r => r.GetProperty("answer").GetString()));
        Assert.All(results, r => Assert.Equal(wrapped, r.GetProperty("wrapped").GetBoolean()));
        Assert.All(results, r => Assert.Equal(r.GetProperty("sessionId").GetString(), r.GetProperty("answerSessionId").GetString()));
    }

    [Fact]
    public async Task Msgs_state_req_reports_one_status_per_id()
    {
        ClientRun run = (await NodeClient.GramJs.RunAsync(fx.Options("msgs-state", "abridged", true))).EnsureOk();

        Dictionary<string, int> states = run.Result.GetProperty("states").EnumerateArray()
            .ToDictionary(s => s.GetProperty("label").GetString()!, s => s.GetProperty("status").GetInt32());
        Assert.Equal(4, states["answered"] & 7);
        Assert.Equal(2, states["never-sent"]);
        Assert.Equal(3, states["too-high"]);
        Assert.Equal(1, states["too-low"]);
    }

    [Theory]
    [InlineData(600, 17)]
    [InlineData(-600, 16)]
    public async Task Clock_skew_is_corrected_after_bad_msg_notification(int skew, int code)
    {
        ClientRun run = (await NodeClient.GramJs.RunAsync(fx.Options("clock-skew", "full", true) with
        {
            Extra = new Dictionary<string, string> { ["skew"] = skew.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        })).EnsureOk();

        Assert.Contains(code, run.Result.GetProperty("badMsgCodes").EnumerateArray().Select(c => c.GetInt32()));
        Assert.InRange(run.Result.GetProperty("timeOffsetAfter").GetInt32(), -2, 2);
    }

    [Fact]
    public async Task Unknown_method_gets_rpc_error_400()
    {
        ClientRun run = (await NodeClient.GramJs.RunAsync(fx.Options("unknown-method", "obfuscated", true))).EnsureOk();
        Assert.Equal("400", run.Get("rpcError.code"));
    }

    [Fact]
    public async Task Ping_delay_disconnect_closes_after_the_delay()
    {
        ClientRun run = (await NodeClient.GramJs.RunAsync(fx.Options("ping-delay-disconnect", "full", true) with
        {
            Extra = new Dictionary<string, string> { ["delay"] = "1" },
        })).EnsureOk();
        Assert.InRange(run.Result.GetProperty("closedAfterMs").GetInt32(), 700, 4000);
    }
}

public sealed class MtcuteDriverTests(FakeServersFixture fx) : IClassFixture<FakeServersFixture>
{
    [Theory]
    [InlineData("intermediate", false)]
    [InlineData("padded", true)]
    [InlineData("obfuscated", false)]
    [InlineData("obfuscated-padded", true)]
    public async Task Connect_and_round_trip(string transport, bool preShared)
    {
        ClientRun run = (await NodeClient.Mtcute.RunAsync(fx.Options("connect-ping", transport, preShared))).EnsureOk();

        if (preShared) Assert.Equal(AuthKey.ComputeId(fx.PreSharedKey), run.AuthKeyId);
        Assert.NotNull(run.AuthKeyId);
        Assert.Equal("400", run.Get("rpcError.code"));
    }

    [Fact]
    public async Task Automatic_ping_gets_a_pong()
    {
        ClientRun run = (await NodeClient.Mtcute.RunAsync(fx.Options("connect-ping", "intermediate", true) with { Flags = ["wait-pong"] })).EnsureOk();
        Assert.NotNull(run.Get("pong.pingId"));
    }

    [Fact]
    public async Task Future_salts_are_asked_once()
    {
        ClientRun run = (await NodeClient.Mtcute.RunAsync(fx.Options("future-salts", "intermediate", false))).EnsureOk();
        Assert.Equal(1, run.Result.GetProperty("getFutureSaltsSent").GetInt32());
        Assert.True(run.Result.GetProperty("salts").GetArrayLength() >= 3, run.ToString());
    }

    [Fact]
    public async Task Lost_answer_is_recovered_through_msgs_state_req()
    {
        ClientRun run = (await NodeClient.Mtcute.RunAsync(fx.Options("msgs-state", "intermediate", true))).EnsureOk();
        Assert.True(run.Result.GetProperty("automatic").GetProperty("stateReqs").GetArrayLength() >= 1, run.ToString());
        Assert.Equal("400", run.Get("recoveredRpc.code"));
        Assert.Equal(3, run.Result.GetProperty("manual").GetProperty("states").GetArrayLength());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Destroy_session_of_an_unknown_session(bool wrapped)
    {
        ClientRun run = (await NodeClient.Mtcute.RunAsync(fx.Options("destroy-session", "intermediate", true, wrapped ? fx.Wrapped : fx.Bare))).EnsureOk();
        Assert.Equal("destroy_session_none", run.Get("destroy.answer"));
        Assert.Equal(wrapped ? "true" : "false", run.Get("destroy.wrapped"));
    }

    [Fact]
    public async Task Session_reset_destroys_the_old_session()
    {
        ClientRun run = (await NodeClient.Mtcute.RunAsync(fx.Options("reset-session", "padded", true))).EnsureOk();
        Assert.Equal("destroy_session_ok", run.Get("destroy.answer"));
        Assert.Equal("true", run.Get("destroySent"));
        Assert.NotEqual(run.Get("oldSessionId"), run.Get("newSessionId"));
    }

    [Fact]
    public async Task Destroy_auth_key_then_a_new_key_after_404()
    {
        ClientRun run = (await NodeClient.Mtcute.RunAsync(fx.Options("destroy-auth-key", "intermediate", false))).EnsureOk();
        Assert.Equal("destroy_auth_key_ok", run.Get("destroy.answer"));
        Assert.Equal("true", run.Get("newKeyCreated"));
        Assert.Contains(404, run.Result.GetProperty("transportErrors").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public async Task Clock_too_far_ahead_resets_the_session()
    {
        ClientRun run = (await NodeClient.Mtcute.RunAsync(fx.Options("clock-skew", "intermediate", true))).EnsureOk();
        Assert.Contains(17, run.Result.GetProperty("badMsgCodes").EnumerateArray().Select(c => c.GetInt32()));
        Assert.NotEqual(0, run.Result.GetProperty("sessionResets").GetArrayLength());
    }
}
