using System.Text.Json;
using MtActors.Client;
using MtActors.Grains.Tests.Infrastructure;
using Npgsql;

namespace MtActors.Grains.Tests.Cli;

/// <summary>`mtactors stats`, `--help`, and the errors every command shares.</summary>
[Collection(CliCollection.Name)]
public sealed class StatsAndHelpTests(CliFixture fx)
{
    private string[] Local(params string[] args) => [.. args, "--data-dir", fx.DataDirectory];

    [Fact]
    public async Task Stats_lists_the_active_silo_the_stored_counts_and_live_activations()
    {
        var (key, sessions) = await fx.NewKeyWithSessionsAsync(5);
        var r = (await Mtactors.RunAsync(Local("stats", "--json"))).Expect(0);
        var storedKeys = await Sql.CountAsync(fx.ConnectionString,
            "SELECT count(*) FROM grain_state WHERE serviceid = @s AND graintypestring = 'authkey'", ("s", fx.ClusterId));
        var storedSessions = await Sql.CountAsync(fx.ConnectionString,
            "SELECT count(*) FROM grain_state WHERE serviceid = @s AND graintypestring = 'session'", ("s", fx.ClusterId));

        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        Assert.Equal(fx.ClusterId, root.GetProperty("cluster_id").GetString());
        Assert.Equal(1, root.GetProperty("silos_active").GetInt32());
        var silo = Assert.Single(root.GetProperty("silos").EnumerateArray());
        Assert.Equal("Active", silo.GetProperty("status").GetString());
        Assert.Equal("127.0.0.1", silo.GetProperty("address").GetString());
        Assert.True(silo.GetProperty("gateway_port").GetInt32() > 0);

        // Other tests of the collection may add keys meanwhile: at least what the table held just after.
        Assert.True(root.GetProperty("storage").GetProperty("auth_keys").GetInt64() >= 1);
        Assert.True(root.GetProperty("storage").GetProperty("auth_keys").GetInt64() <= storedKeys);
        Assert.True(root.GetProperty("storage").GetProperty("sessions").GetInt64() >= 5);
        Assert.True(root.GetProperty("storage").GetProperty("sessions").GetInt64() <= storedSessions);

        var activations = root.GetProperty("activations");
        Assert.Equal(JsonValueKind.Null, root.GetProperty("activations_error").ValueKind);
        Assert.True(activations.GetProperty("sessions").GetInt64() >= 5, activations.ToString());
        Assert.True(activations.GetProperty("auth_keys").GetInt64() >= 1, activations.ToString());
        Assert.True(activations.GetProperty("total").GetInt64() >=
                    activations.GetProperty("sessions").GetInt64() + activations.GetProperty("auth_keys").GetInt64());
        Assert.Single(activations.GetProperty("per_silo").EnumerateArray());
        Assert.NotEmpty(sessions);
        Assert.NotEqual(0, key);

        var text = (await Mtactors.RunAsync(Local("stats"))).Expect(0);
        Assert.Contains($"cluster      {fx.ClusterId} (service {fx.ClusterId})", text.Out);
        Assert.Contains("silos        1 active, 0 starting or stopping, 0 dead", text.Out);
        Assert.Matches(@"\n  Active +127\.0\.0\.1:\d+ +\d+ ", text.Out);
        Assert.Matches(@"stored       \d+ auth keys, \d+ sessions", text.Out);
        Assert.Matches(@"activations  \d+ \(sessions \d+, auth keys \d+, other \d+\)", text.Out);
    }

    [Fact]
    public async Task Stats_without_any_silo_still_prints_storage_and_says_activations_are_unavailable()
    {
        var db = await fx.CreateMigratedDatabaseAsync("stats_nosilo");
        var r = (await Mtactors.RunAsync("stats", "--connection", db, "--cluster-id", "nobody", "--json")).Expect(0);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.Empty(doc.RootElement.GetProperty("silos").EnumerateArray());
        Assert.Equal(0, doc.RootElement.GetProperty("storage").GetProperty("sessions").GetInt64());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("activations").ValueKind);
        Assert.Equal("no active silo", doc.RootElement.GetProperty("activations_error").GetString());

        var text = (await Mtactors.RunAsync("stats", "--connection", db, "--cluster-id", "nobody")).Expect(0);
        Assert.Contains("activations  unavailable (no active silo)", text.Out);
    }

    [Fact]
    public async Task Stats_with_a_dead_silo_and_an_unreachable_active_one_lists_them_and_exits_0()
    {
        var db = await fx.CreateMigratedDatabaseAsync("stats_rows");
        const string cluster = "ghosts";
        await Sql.ExecuteAsync(db, "INSERT INTO membership_version (deploymentid, version) VALUES (@d, 3)", ("d", cluster));
        var closedPort = Silo.Postgres.LocalPostgres.FreeLoopbackPort();
        foreach (var (port, status, name) in new[] { (closedPort, 3, "ghost-active"), (closedPort + 1, 6, "ghost-dead") })
        {
            await Sql.ExecuteAsync(db,
                "INSERT INTO membership (deploymentid, address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime) " +
                "VALUES (@d, '127.0.0.1', @p, 1, @n, 'h', @s, @p, now(), now())",
                ("d", cluster), ("p", port), ("n", name), ("s", status));
        }

        var r = (await Mtactors.RunAsync("stats", "--connection", db, "--cluster-id", cluster, "--json", "--timeout", "3")).Expect(0);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.Equal(1, doc.RootElement.GetProperty("silos_active").GetInt32());
        Assert.Equal(1, doc.RootElement.GetProperty("silos_dead").GetInt32());
        Assert.Equal("ghost-active", Assert.Single(doc.RootElement.GetProperty("silos").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("activations").ValueKind);
        Assert.StartsWith("cannot reach cluster 'ghosts'", doc.RootElement.GetProperty("activations_error").GetString());

        var all = (await Mtactors.RunAsync("stats", "--connection", db, "--cluster-id", cluster, "--include-dead", "--timeout", "3")).Expect(0);
        Assert.Contains("ghost-dead", all.Out);
        Assert.Matches(@"\n  Dead +127\.0\.0\.1:", all.Out);
    }

    [Theory]
    [InlineData("stats")]
    [InlineData("sessions", "list")]
    public async Task Database_commands_against_an_unreachable_database_exit_3_with_one_line(params string[] args)
    {
        var connection = $"Host=127.0.0.1;Port={Silo.Postgres.LocalPostgres.FreeLoopbackPort()};Username=u;Password=secret-pw;Database=d";
        var r = await Mtactors.RunAsync([.. args, "--connection", connection]);
        Assert.Equal(ExitCodes.NoCluster, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.StartsWith("error: cannot reach cluster 'mtactors'", r.Err);
        Assert.DoesNotContain("secret-pw", r.Err);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(15), $"took {r.Elapsed}");
    }

    [Theory]
    [InlineData("stats")]
    [InlineData("sessions", "list")]
    public async Task Database_commands_on_a_database_without_the_schema_say_so(params string[] args)
    {
        var db = new NpgsqlConnectionStringBuilder(fx.Server.ConnectionString) { Database = "postgres" }.ConnectionString;
        var r = await Mtactors.RunAsync([.. args, "--connection", db]);
        Assert.Equal(ExitCodes.NoCluster, r.ExitCode);
        Assert.Contains("no MtActors schema", r.Err);
    }

    [Fact]
    public async Task Help_lists_every_command_with_examples_and_exit_codes()
    {
        var r = (await Mtactors.RunAsync("--help")).Expect(0);
        foreach (var command in new[] { "session, sessions", "authkey", "stats", "rsa-key", "bench", "Examples:", "Exit codes: 0 done" })
        {
            Assert.Contains(command, r.Out);
        }

        var tree = global::MtActors.Client.Cli.Build(TextWriter.Null, TextWriter.Null, _ => null);
        var leaves = tree.Subcommands.SelectMany(c => c.Subcommands.Count == 0 ? [c] : c.Subcommands.ToArray()).ToList();
        Assert.True(leaves.Count >= 7);
        foreach (var leaf in leaves)
        {
            var path = leaf.Parents.OfType<System.CommandLine.Command>().FirstOrDefault() is { } parent && parent != tree
                ? new[] { parent.Name, leaf.Name }
                : [leaf.Name];
            var help = (await Mtactors.RunAsync([.. path, "--help"])).Expect(0);
            Assert.False(string.IsNullOrWhiteSpace(leaf.Description), string.Join(' ', path));
            Assert.Contains($"mtactors {string.Join(' ', path)}", help.Out);
            Assert.Contains("Examples:\n  mtactors ", help.Out.ReplaceLineEndings("\n"));
            Assert.Contains("Exit codes: 0 done, 1 failure, 2 bad usage, 3 cluster or database unreachable, 4 not found, 5 timeout", help.Out);
            Assert.Contains("--json", help.Out);
        }
    }

    [Fact]
    public async Task Rsa_key_prints_the_silos_public_key_and_fingerprint()
    {
        var text = (await Mtactors.RunAsync(Local("rsa-key"))).Expect(0);
        Assert.StartsWith("-----BEGIN RSA PUBLIC KEY-----", text.Out);
        Assert.EndsWith("-----END RSA PUBLIC KEY-----", text.Out.TrimEnd());
        var fingerprint = Protocol.Handshake.RsaServerKey.ComputeFingerprint(text.Out);
        Assert.Contains($"fingerprint 0x{(ulong)fingerprint:x16}", text.Err);

        var json = (await Mtactors.RunAsync(Local("rsa-key", "--json"))).Expect(0);
        using var doc = JsonDocument.Parse(json.Out);
        var key = Assert.Single(doc.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal($"0x{(ulong)fingerprint:x16}", key.GetProperty("fingerprint").GetString());
        Assert.Equal(text.Out.Trim(), key.GetProperty("pem").GetString()!.Trim());

        var empty = Directory.CreateTempSubdirectory("mtactors-nokey-");
        try
        {
            var missing = await Mtactors.RunAsync("rsa-key", "--data-dir", empty.FullName);
            Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
            Assert.Equal("", missing.Out);
            Assert.Single(missing.Err.TrimEnd().Split('\n'));
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Help_wins_over_missing_arguments()
    {
        var r = (await Mtactors.RunAsync("authkey", "destroy", "--help")).Expect(0);
        Assert.Contains("destroy_auth_key", r.Out);
        Assert.Equal("", r.Err);
    }

    [Fact]
    public async Task Unknown_command_exits_2_and_points_to_help()
    {
        var r = await Mtactors.RunAsync("sesions", "list");
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Equal(
            "error: unknown command 'sesions' (commands: session, authkey, stats, rsa-key, bench) (run `mtactors --help` for usage)",
            r.Err.TrimEnd());
    }
}
