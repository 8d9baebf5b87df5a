using System.Security.Cryptography;
using System.Text.Json;
using MtActors.Admin;
using MtActors.Client;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Grains.Tests.Tools;

namespace MtActors.Grains.Tests.Cli;

/// <summary>`mtactors authkey show | sessions | destroy` against a real silo.</summary>
[Collection(CliCollection.Name)]
public sealed class AuthKeyCommandTests(CliFixture fx)
{
    private string[] Local(params string[] args) => [.. args, "--data-dir", fx.DataDirectory];

    [Fact]
    public async Task Show_prints_kind_times_and_session_count_but_never_key_material()
    {
        var (key, id) = TestData.NewKey();
        Assert.Equal(AuthKeyRegisterResult.Registered,
            await fx.Grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, null)));
        var info = await fx.Grains.GetAuthKeyGrain(id).Get();
        Assert.NotNull(info);
        var salt = (await fx.Grains.GetSessionGrain(id, 1).GetFutureSalts(1)).Salts[0].Salt;
        for (var s = 1; s <= 3; s++)
        {
            Assert.True((await fx.Grains.GetSessionGrain(id, s)
                .Receive(TestData.Frame(salt, TestData.ClientMsgId(DateTimeOffset.UtcNow)))).Created);
        }

        var text = (await Mtactors.RunAsync(Local("authkey", "show", Ids.Hex(id)))).Expect(0);
        Assert.Equal(
            $"auth_key_id    {id} ({Ids.Hex(id)})\nkind           permanent\ncreated_at     {info.CreatedAt:O}\nexpires_at     never\nsessions       3\n",
            text.Out.ReplaceLineEndings("\n"));

        var json = (await Mtactors.RunAsync(Local("authkey", "show", id.ToString(), "--json"))).Expect(0);
        using var doc = JsonDocument.Parse(json.Out);
        JsonShapes.Assert(JsonShapes.AuthKey, doc.RootElement);
        Assert.Equal(id, doc.RootElement.Id("auth_key_id"));
        Assert.Equal("permanent", doc.RootElement.GetProperty("kind").GetString());
        Assert.Equal(info.CreatedAt, doc.RootElement.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("expires_at").ValueKind);
        Assert.Equal(3, doc.RootElement.GetProperty("session_count").GetInt32());

        foreach (var output in new[] { text.Out + text.Err, json.Out + json.Err })
        {
            Assert.DoesNotContain(Convert.ToHexString(key.AsSpan(0, 16)), output, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToBase64String(key)[..16], output);
        }
    }

    [Fact]
    public async Task Show_of_a_temporary_key_gives_its_expiry()
    {
        var (key, id) = TestData.NewKey();
        var expires = DateTimeOffset.UtcNow.AddHours(1);
        Assert.Equal(AuthKeyRegisterResult.Registered,
            await fx.Grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Temporary, expires, null)));
        var r = (await Mtactors.RunAsync(Local("auth-key", "show", id.ToString(), "--json"))).Expect(0);
        using var doc = JsonDocument.Parse(r.Out);
        JsonShapes.Assert(JsonShapes.AuthKey, doc.RootElement);
        Assert.Equal("temporary", doc.RootElement.GetProperty("kind").GetString());
        Assert.Equal(expires, DateTimeOffset.Parse(doc.RootElement.GetProperty("expires_at").GetString()!));
        Assert.Equal(0, doc.RootElement.GetProperty("session_count").GetInt32());
    }

    [Theory]
    [InlineData("show")]
    [InlineData("sessions")]
    public async Task Show_and_sessions_of_an_unknown_key_exit_4(string command)
    {
        var id = TestData.NewKey().Id;
        var r = await Mtactors.RunAsync(Local("authkey", command, id.ToString()));
        Assert.Equal(ExitCodes.NotFound, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.Equal($"error: auth key {id} ({Ids.Hex(id)}) does not exist (never registered, destroyed, or expired)", r.Err.TrimEnd());
    }

    [Fact]
    public async Task Sessions_lists_the_keys_live_sessions()
    {
        var (key, sessions) = await fx.NewKeyWithSessionsAsync(4);
        var text = (await Mtactors.RunAsync(Local("authkey", "sessions", key.ToString()))).Expect(0);
        Assert.Equal(sessions.Select(s => $"{s} ({Ids.Hex(s)})").Order(), text.Out.TrimEnd().Split('\n').Order());

        var json = (await Mtactors.RunAsync(Local("authkey", "sessions", key.ToString(), "--json"))).Expect(0);
        using var doc = JsonDocument.Parse(json.Out);
        JsonShapes.Assert(JsonShapes.AuthKeySessions, doc.RootElement);
        Assert.Equal(key, doc.RootElement.Id("auth_key_id"));
        Assert.Equal(4, doc.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(sessions.Order(), doc.RootElement.IdArray("session_ids").Order());
    }

    [Fact]
    public async Task Destroy_of_a_key_with_many_sessions_shows_progress_then_ok_and_a_second_destroy_answers_none()
    {
        var (key, sessions) = await fx.NewKeyWithSessionsAsync(300);
        Assert.Equal(300, await Sql.CountAsync(fx.ConnectionString,
            "SELECT count(*) FROM grain_state WHERE serviceid = @s AND graintypestring = 'session' AND grainidn0 = @k",
            ("s", fx.ClusterId), ("k", key)));

        // Progress is polled every 250 ms, and 300 sessions can be gone sooner on a fast machine: hold one session's row
        // locked for a while, so the destroy waits on it (the progress count does not), then let it finish.
        Mtactors.Result r;
        await using (var connection = new Npgsql.NpgsqlConnection(fx.ConnectionString))
        {
            await connection.OpenAsync();
            await using var hold = await connection.BeginTransactionAsync();
            await using (var lockRow = new Npgsql.NpgsqlCommand(
                "SELECT 1 FROM grain_state WHERE serviceid = @s AND graintypestring = 'session' AND grainidn0 = @k AND grainidn1 = @id FOR UPDATE",
                connection, hold))
            {
                lockRow.Parameters.AddWithValue("s", fx.ClusterId);
                lockRow.Parameters.AddWithValue("k", key);
                lockRow.Parameters.AddWithValue("id", sessions[150]);
                Assert.Equal(1, await lockRow.ExecuteScalarAsync());
            }

            var run = Mtactors.RunAsync(true, Local("authkey", "destroy", Ids.Hex(key)));
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.False(run.IsCompleted, "the destroy finished although a session row was locked");
            await hold.RollbackAsync();
            r = (await run).Expect(0);
        }

        Assert.Equal($"destroy_auth_key_ok auth_key_id:{key} sessions:300", r.Out.TrimEnd());
        Assert.Contains("destroying sessions: ", r.Err);
        Assert.Contains("/300 (", r.Err);
        Assert.DoesNotContain("error", r.Err);

        // Every session row and the key's row are gone; the grains agree.
        Assert.Equal(0, await Sql.CountAsync(fx.ConnectionString,
            "SELECT count(*) FROM grain_state WHERE serviceid = @s AND grainidn0 = @k", ("s", fx.ClusterId), ("k", key)));
        Assert.Equal(0, await Sql.AuthKeyRowsAsync(fx.ConnectionString, fx.ClusterId, key));
        Assert.Null(await fx.Grains.GetSessionGrain(key, sessions[123]).GetInfo());

        var again = (await Mtactors.RunAsync(Local("authkey", "destroy", key.ToString(), "--json"))).Expect(0);
        using (var doc = JsonDocument.Parse(again.Out))
        {
            JsonShapes.Assert(JsonShapes.DestroyAuthKeyNone, doc.RootElement);
            Assert.Equal("destroy_auth_key_none", doc.RootElement.GetProperty("result").GetString());
            Assert.Equal(key, doc.RootElement.Id("auth_key_id"));
        }

        Assert.Equal(ExitCodes.NotFound, (await Mtactors.RunAsync(Local("authkey", "show", key.ToString()))).ExitCode);
    }

    [Fact]
    public async Task Destroy_as_json_counts_the_sessions_and_prints_no_progress_when_not_a_terminal()
    {
        var (key, _) = await fx.NewKeyWithSessionsAsync(2);
        var r = (await Mtactors.RunAsync(false, Local("authkey", "destroy", key.ToString(), "--json"))).Expect(0);
        Assert.Equal("", r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        JsonShapes.Assert(JsonShapes.DestroyAuthKeyOk, doc.RootElement);
        Assert.Equal("destroy_auth_key_ok", doc.RootElement.GetProperty("result").GetString());
        Assert.Equal(key, doc.RootElement.Id("auth_key_id"));
        Assert.Equal(2, doc.RootElement.GetProperty("sessions_destroyed").GetInt32());
    }

    [Fact]
    public async Task Key_material_bytes_never_leave_through_any_authkey_command()
    {
        var key = RandomNumberGenerator.GetBytes(256);
        var id = Protocol.Crypto.AuthKey.ComputeId(key);
        await fx.Grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, null));
        var hex = Convert.ToHexString(key);
        foreach (var args in new[] { new[] { "authkey", "show" }, ["authkey", "sessions"] })
        {
            foreach (var json in new[] { false, true })
            {
                var r = (await Mtactors.RunAsync(Local([.. args, id.ToString(), .. json ? new[] { "--json" } : []]))).Expect(0);
                for (var i = 0; i + 8 <= key.Length; i += 8)
                {
                    Assert.DoesNotContain(hex.Substring(i * 2, 16), r.Out + r.Err, StringComparison.OrdinalIgnoreCase);
                }
            }
        }
    }
}
