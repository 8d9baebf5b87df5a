using System.Text.Json;
using MtActors.Admin;
using MtActors.Client;
using MtActors.Client.Storage;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Grains.Tests.Tools;

namespace MtActors.Grains.Tests.Cli;

/// <summary>`mtactors session list | show | destroy` against a real silo and real tables.</summary>
[Collection(CliCollection.Name)]
public sealed class SessionCommandTests(CliFixture fx)
{
    private string[] Local(params string[] args) => [.. args, "--data-dir", fx.DataDirectory];

    /// <summary>A database with no silo and <paramref name="rows"/> synthetic session rows of a fresh service id.</summary>
    private async Task<(string Db, string ServiceId, List<(long A, long S)> Sorted)> TableAsync(int keys, int perKey)
    {
        var db = await fx.CreateMigratedDatabaseAsync("list");
        var serviceId = "list-" + Guid.NewGuid().ToString("N")[..8];
        var rows = new List<(long A, long S)>();
        for (var k = 0; k < keys; k++)
        {
            var a = TestData.NewSessionId(); // any 64-bit value, negative ones included
            for (var i = 0; i < perKey; i++)
            {
                rows.Add((a, TestData.NewSessionId()));
            }
        }

        // Rows of another service in the same table must never show up.
        await CliFixture.InsertSessionRowsAsync(db, "someone-else", [(1, 1), (1, 2), (long.MinValue, 5)]);
        await CliFixture.InsertSessionRowsAsync(db, serviceId, rows);
        return (db, serviceId, [.. rows.OrderBy(r => r.A).ThenBy(r => r.S)]);
    }

    private static string[] On(string db, string serviceId, params string[] args) =>
        [.. args, "--connection", db, "--service-id", serviceId, "--json"];

    private static List<(long A, long S)> IdPairs(JsonElement sessions) =>
        [.. sessions.EnumerateArray().Select(e => (e.Id("auth_key_id"), e.Id("session_id")))];

    [Fact]
    public async Task List_pages_cover_the_table_once_in_a_stable_order_with_page_numbers_and_with_cursors()
    {
        var (db, serviceId, sorted) = await TableAsync(keys: 7, perKey: 300); // 2100 rows

        // --page: pages 1..3 of 1000, then an empty page 4.
        var byPage = new List<(long, long)>();
        for (var page = 1; page <= 4; page++)
        {
            var r = (await Mtactors.RunAsync(On(db, serviceId, "sessions", "list", "--page-size", "1000", "--page", page.ToString()))).Expect(0);
            using var doc = JsonDocument.Parse(r.Out);
            var root = doc.RootElement;
            JsonShapes.Assert(JsonShapes.StoredSessionPage, root);
            Assert.Equal(2100, root.GetProperty("total").GetInt64());
            Assert.Equal(page, root.GetProperty("page").GetInt32());
            Assert.Equal(1000, root.GetProperty("page_size").GetInt32());
            var expectedCount = page switch { 1 or 2 => 1000, 3 => 100, _ => 0 };
            Assert.Equal(expectedCount, root.GetProperty("count").GetInt32());
            Assert.Equal(page < 3 ? JsonValueKind.String : JsonValueKind.Null, root.GetProperty("next_cursor").ValueKind);
            byPage.AddRange(IdPairs(root.GetProperty("sessions")));
            foreach (var s in root.GetProperty("sessions").EnumerateArray())
            {
                JsonShapes.Assert(JsonShapes.StoredSession, s);
                Assert.True(DateTimeOffset.TryParse(s.GetProperty("last_write_at").GetString(), out _));
            }
        }

        Assert.Equal(sorted, byPage);

        // --after: follow next_cursor from the start; the same rows in the same order.
        var byCursor = new List<(long, long)>();
        string? cursor = null;
        var pages = 0;
        do
        {
            string[] args = cursor is null
                ? ["sessions", "list", "--page-size", "750"]
                : ["sessions", "list", "--page-size", "750", "--after", cursor];
            var r = (await Mtactors.RunAsync(On(db, serviceId, args))).Expect(0);
            using var doc = JsonDocument.Parse(r.Out);
            byCursor.AddRange(IdPairs(doc.RootElement.GetProperty("sessions")));
            cursor = doc.RootElement.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(sorted, byCursor);
    }

    [Fact]
    public async Task List_of_one_auth_key_has_only_its_sessions_ordered_by_session_id()
    {
        var (db, serviceId, sorted) = await TableAsync(keys: 3, perKey: 40);
        var key = sorted[50].A;
        var r = (await Mtactors.RunAsync(On(db, serviceId, "session", "ls", "--auth-key", Ids.Hex(key), "-n", "25", "-p", "2"))).Expect(0);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.Equal(key, doc.RootElement.Id("auth_key_id"));
        Assert.Equal(40, doc.RootElement.GetProperty("total").GetInt64());
        Assert.Equal(sorted.Where(x => x.A == key).Skip(25).ToList(), IdPairs(doc.RootElement.GetProperty("sessions")));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public async Task List_as_text_prints_rows_on_stdout_and_where_the_page_is_on_stderr()
    {
        var (db, serviceId, sorted) = await TableAsync(keys: 2, perKey: 30);
        var r = (await Mtactors.RunAsync("sessions", "list", "--connection", db, "--service-id", serviceId, "--page-size", "25")).Expect(0);
        var lines = r.Out.TrimEnd().Split('\n');
        Assert.Equal(26, lines.Length);
        Assert.StartsWith("AUTH_KEY_ID", lines[0]);
        for (var i = 0; i < 25; i++)
        {
            var cols = lines[i + 1].Split("  ");
            Assert.Equal(Ids.Hex(sorted[i].A), cols[0]);
            Assert.Equal(Ids.Hex(sorted[i].S), cols[1]);
        }

        var next = new SessionCursor(sorted[24].A, sorted[24].S).ToString();
        Assert.Equal($"sessions 1-25 of 60 (page 1 of 3); next page: --after {next}", r.Err.TrimEnd());

        // The cursor printed there continues exactly after row 25.
        var second = (await Mtactors.RunAsync("sessions", "list", "--connection", db, "--service-id", serviceId, "-n", "25", "--after", next)).Expect(0);
        Assert.Equal(Ids.Hex(sorted[25].S), second.Out.Split('\n')[1].Split("  ")[1]);
    }

    [Fact]
    public async Task List_all_streams_every_row_as_one_json_object_with_progress_only_on_a_terminal()
    {
        var (db, serviceId, sorted) = await TableAsync(keys: 5, perKey: 500); // 2500 rows, 3 queries of 1000
        var quiet = (await Mtactors.RunAsync(false, On(db, serviceId, "sessions", "list", "--all"))).Expect(0);
        Assert.Equal("", quiet.Err);
        using (var doc = JsonDocument.Parse(quiet.Out))
        {
            // The same object as one page: every field, in the same order.
            JsonShapes.Assert(JsonShapes.StoredSessionPage, doc.RootElement);
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("page").ValueKind);
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("page_size").ValueKind);
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("next_cursor").ValueKind);
            JsonShapes.Assert(JsonShapes.StoredSession, doc.RootElement.GetProperty("sessions")[0]);
            Assert.Equal(2500, doc.RootElement.GetProperty("count").GetInt64());
            Assert.Equal(2500, doc.RootElement.GetProperty("total").GetInt64());
            Assert.Equal(sorted, IdPairs(doc.RootElement.GetProperty("sessions")));
        }

        var terminal = (await Mtactors.RunAsync(true, On(db, serviceId, "sessions", "list", "--all", "--page-size", "100"))).Expect(0);
        Assert.Contains("listing sessions: ", terminal.Err);
        Assert.Contains("/2500 (", terminal.Err);
        Assert.EndsWith("\r", terminal.Err.TrimEnd(' ')); // the progress line is erased at the end
        Assert.Equal(quiet.Out, terminal.Out);

        var suppressed = (await Mtactors.RunAsync(true, On(db, serviceId, "sessions", "list", "--all", "--no-progress"))).Expect(0);
        Assert.Equal("", suppressed.Err);

        var text = (await Mtactors.RunAsync("sessions", "list", "--all", "--connection", db, "--service-id", serviceId)).Expect(0);
        Assert.Equal(2501, text.Out.TrimEnd().Split('\n').Length);
        Assert.Equal("2500 sessions", text.Err.TrimEnd());
    }

    [Fact]
    public async Task List_of_an_empty_table_says_so_and_exits_0()
    {
        var db = await fx.CreateMigratedDatabaseAsync("empty");
        var json = (await Mtactors.RunAsync(On(db, "nothing-here", "sessions", "list"))).Expect(0);
        using var doc = JsonDocument.Parse(json.Out);
        Assert.Equal(0, doc.RootElement.GetProperty("total").GetInt64());
        Assert.Empty(doc.RootElement.GetProperty("sessions").EnumerateArray());

        var text = (await Mtactors.RunAsync("sessions", "list", "--connection", db, "--service-id", "nothing-here")).Expect(0);
        Assert.Equal("", text.Out);
        Assert.Equal("no sessions", text.Err.TrimEnd());
    }

    [Fact]
    public async Task List_reads_the_live_silos_sessions_through_its_data_directory()
    {
        var (key, sessions) = await fx.NewKeyWithSessionsAsync(3);
        var r = (await Mtactors.RunAsync(Local("sessions", "list", "--auth-key", key.ToString(), "--json"))).Expect(0);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.Equal(sessions.Order().ToList(), IdPairs(doc.RootElement.GetProperty("sessions")).Select(x => x.S).ToList());
        Assert.All(IdPairs(doc.RootElement.GetProperty("sessions")), x => Assert.Equal(key, x.A));
    }

    [Fact]
    public async Task A_query_blocked_past_the_timeout_exits_5()
    {
        var db = await fx.CreateMigratedDatabaseAsync("locked");
        await using var connection = new Npgsql.NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE grain_state IN ACCESS EXCLUSIVE MODE", connection, tx))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var r = await Mtactors.RunAsync("sessions", "list", "--connection", db, "--timeout", "1");
        Assert.Equal(ExitCodes.Timeout, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.Equal("error: the database did not answer within 1 s (--timeout)", r.Err.TrimEnd());
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(20), $"took {r.Elapsed}");
    }

    [Fact]
    public async Task Ctrl_c_during_a_blocked_query_exits_130_at_once()
    {
        var db = await fx.CreateMigratedDatabaseAsync("interrupted");
        await using var connection = new Npgsql.NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE grain_state IN ACCESS EXCLUSIVE MODE", connection, tx))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        using var ctrlC = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var r = await Mtactors.RunAsync(false, ctrlC.Token, "sessions", "list", "--connection", db, "--timeout", "60");
        Assert.Equal(ExitCodes.Interrupted, r.ExitCode);
        Assert.Equal("error: interrupted", r.Err.TrimEnd());
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(15), $"took {r.Elapsed}");
    }

    [Theory]
    [InlineData("sessions", "list", "--page", "0")]
    [InlineData("sessions", "list", "--page-size", "0")]
    [InlineData("sessions", "list", "--page-size", "10001")]
    [InlineData("sessions", "list", "--after", "xyz")]
    [InlineData("sessions", "list", "--after", "00000000000000010000000000000002", "--page", "2")]
    [InlineData("sessions", "list", "--all", "--page", "2")]
    [InlineData("sessions", "list", "--auth-key", "0xz")]
    [InlineData("sessions", "list", "extra")]
    public async Task Bad_list_usage_exits_2_naming_the_problem(params string[] args)
    {
        var r = await Mtactors.RunAsync([.. args, "--connection", "Host=127.0.0.1;Port=1;Username=x"]);
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.StartsWith("error: ", r.Err);
        Assert.EndsWith("(run `mtactors session list --help` for usage)", r.Err.TrimEnd());
        Assert.Single(r.Err.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Show_prints_the_sessions_state_as_text_and_as_json()
    {
        var (key, sessions) = await fx.NewKeyWithSessionsAsync(1);
        var info = await fx.Grains.GetSessionGrain(key, sessions[0]).GetInfo();
        Assert.NotNull(info);

        var text = (await Mtactors.RunAsync(Local("session", "show", Ids.Hex(key), sessions[0].ToString()))).Expect(0);
        Assert.Contains($"session_id             {sessions[0]} ({Ids.Hex(sessions[0])})", text.Out);
        Assert.Contains($"unique_id              {info.UniqueId} ", text.Out);
        Assert.Equal(10, text.Out.TrimEnd().Split('\n').Length);

        var json = (await Mtactors.RunAsync(Local("session", "show", key.ToString(), sessions[0].ToString(), "--json"))).Expect(0);
        using var doc = JsonDocument.Parse(json.Out);
        var root = doc.RootElement;
        JsonShapes.Assert(JsonShapes.Session, root);
        Assert.Equal(key, root.Id("auth_key_id"));
        Assert.Equal(info.UniqueId, root.Id("unique_id"));
        Assert.Equal(info.FirstMsgId, root.Id("first_msg_id"));
        Assert.Equal(info.CurrentSalt, root.Id("current_salt"));
        Assert.Equal(info.CreatedAt, DateTimeOffset.Parse(root.GetProperty("created_at").GetString()!));
    }

    [Fact]
    public async Task Show_of_a_missing_session_exits_4_with_one_line()
    {
        var (key, _) = await fx.NewKeyWithSessionsAsync(0);
        var r = await Mtactors.RunAsync(Local("session", "show", key.ToString(), "42", "--json"));
        Assert.Equal(ExitCodes.NotFound, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.Equal($"error: session 42 (0x000000000000002a) of auth key {key} ({Ids.Hex(key)}) does not exist", r.Err.TrimEnd());
    }

    [Fact]
    public async Task Destroy_answers_ok_then_none_and_the_row_is_gone()
    {
        var (key, sessions) = await fx.NewKeyWithSessionsAsync(2);
        var first = (await Mtactors.RunAsync(Local("session", "destroy", key.ToString(), sessions[0].ToString(), "--json"))).Expect(0);
        using (var doc = JsonDocument.Parse(first.Out))
        {
            JsonShapes.Assert(JsonShapes.DestroySession, doc.RootElement);
            Assert.Equal("destroy_session_ok", doc.RootElement.GetProperty("result").GetString());
            Assert.Equal(key, doc.RootElement.Id("auth_key_id"));
            Assert.Equal(sessions[0], doc.RootElement.Id("session_id"));
        }

        var second = (await Mtactors.RunAsync(Local("session", "destroy", key.ToString(), sessions[0].ToString()))).Expect(0);
        Assert.Equal($"destroy_session_none session_id:{sessions[0]}", second.Out.TrimEnd());
        Assert.Equal(0, await Sql.SessionRowsAsync(fx.ConnectionString, fx.ClusterId, key, sessions[0]));
        Assert.Equal(1, await Sql.SessionRowsAsync(fx.ConnectionString, fx.ClusterId, key, sessions[1]));
        Assert.Equal(new[] { sessions[1] }, (await fx.Grains.GetAuthKeyGrain(key).GetSessionIds()).ToArray());
    }
}
