using System.Diagnostics;
using MtActors.Client;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Postgres;

namespace MtActors.Grains.Tests.SiloHosting;

/// <summary>The mtactors CLI's errors: one line, a specific exit code, quickly; never a stack trace.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CliTests(PostgresFixture pg)
{
    private static string ClosedPortConnection() =>
        $"Host=127.0.0.1;Port={LocalPostgres.FreeLoopbackPort()};Username=postgres;Password=x;Database=mtactors";

    /// <summary>
    /// Runs the built mtactors.dll as its own process, as a user would. It is started with this test assembly's
    /// runtimeconfig and deps files, which cover every assembly beside it (the ASP.NET Core shared framework brings
    /// some of the CLI's dependencies here, so the CLI's own files would miss them).
    /// </summary>
    private static async Task<(int ExitCode, string Out, string Err, TimeSpan Elapsed)> RunProcessAsync(
        IDictionary<string, string?> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "mtactors.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project must reference src/Client");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var self = typeof(CliTests).Assembly.GetName().Name;
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add("--runtimeconfig");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, self + ".runtimeconfig.json"));
        psi.ArgumentList.Add("--depsfile");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, self + ".deps.json"));
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove(ClusterConnection.ConnectionVariable);
        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr, watch.Elapsed);
    }

    [Fact]
    public async Task Unreachable_database_gives_one_line_on_stderr_and_exit_3_within_seconds_as_a_process()
    {
        var (code, stdout, stderr, elapsed) = await RunProcessAsync(
            new Dictionary<string, string?> { [ClusterConnection.ConnectionVariable] = ClosedPortConnection() },
            "session", "destroy", "0x1122334455667788", "42");

        Assert.Equal(ExitCodes.NoCluster, code);
        Assert.Equal("", stdout);
        var lines = stderr.TrimEnd().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: cannot reach cluster", lines[0]);
        Assert.DoesNotContain("Password", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", stderr);
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"took {elapsed}");
    }

    [Fact]
    public async Task Database_without_a_running_silo_gives_exit_3_quickly()
    {
        // The schema is there but no silo of this cluster has ever joined: no gateway to talk to.
        var db = await pg.CreateMigratedDatabaseAsync("cli_nosilo");
        var r = await Mtactors.RunAsync("session", "show", "1", "2", "--connection", db, "--cluster-id", "nobody-home");

        Assert.Equal(ExitCodes.NoCluster, r.ExitCode);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.Contains("nobody-home", r.Err);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(15), $"took {r.Elapsed}");
    }

    [Fact]
    public async Task Database_without_the_schema_says_so()
    {
        var db = await pg.CreateDatabaseAsync("cli_noschema");
        var r = await Mtactors.RunAsync("authkey", "sessions", "1", "--connection", db);

        Assert.Equal(ExitCodes.NoCluster, r.ExitCode);
        Assert.Contains("no MtActors schema", r.Err);
    }

    [Fact]
    public async Task No_connection_and_no_local_silo_tells_how_to_start_one()
    {
        var empty = Directory.CreateTempSubdirectory("mtactors-nosilo-");
        try
        {
            var r = await Mtactors.RunAsync("session", "show", "1", "2", "--data-dir", empty.FullName);
            Assert.Equal(ExitCodes.NoCluster, r.ExitCode);
            Assert.Contains("dotnet run --project src/Silo", r.Err);
            Assert.Single(r.Err.TrimEnd().Split('\n'));
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("session", "show", "zz", "1")]
    [InlineData("session", "destroy", "1", "0x")]
    [InlineData("session", "destroy", "1", "0x11223344556677889")]
    [InlineData("session", "destroy", "1", "18446744073709551616")]
    [InlineData("session", "destroy", "1")]
    [InlineData("session", "frobnicate", "1", "2")]
    [InlineData("session", "show", "1", "2", "--timeout", "-1")]
    [InlineData("session", "show", "1", "2", "--timeout", "abc")]
    [InlineData("sessions", "list", "--page", "1.5")]
    [InlineData("bench", "--port", "x")]
    [InlineData("bench", "--mode", "nope")]
    [InlineData("authkey")]
    [InlineData("frobnicate")]
    public async Task Bad_usage_gives_exit_2_and_one_line_without_touching_a_cluster(params string[] args)
    {
        var r = await Mtactors.RunAsync([.. args, "--connection", ClosedPortConnection()]);
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.EndsWith(" --help` for usage)", r.Err.TrimEnd());
    }

    [Theory]
    [InlineData("a command is missing (commands: session, authkey, stats, rsa-key, bench) (run `mtactors --help` for usage)")]
    [InlineData("unknown command 'sesions' (commands: session, authkey, stats, rsa-key, bench) (run `mtactors --help` for usage)", "sesions", "list")]
    [InlineData("unknown command 'drop' (commands: list, show, destroy) (run `mtactors session --help` for usage)", "session", "drop", "1", "2")]
    [InlineData("<session-id> is missing (run `mtactors session destroy --help` for usage)", "session", "destroy", "1")]
    [InlineData("unexpected argument '3' (run `mtactors session show --help` for usage)", "session", "show", "1", "2", "3")]
    [InlineData("unknown option '--frob' (run `mtactors stats --help` for usage)", "stats", "--frob")]
    [InlineData("<auth-key-id> 'xyz' is not a 64-bit id (decimal, or hex with 0x) (run `mtactors authkey show --help` for usage)", "authkey", "show", "xyz")]
    [InlineData("<session-id> '18446744073709551616' is out of the 64-bit range (-9223372036854775808..18446744073709551615) (run `mtactors session show --help` for usage)", "session", "show", "1", "18446744073709551616")]
    [InlineData("--auth-key '0x' is not a 64-bit hex id (0x followed by 1..16 hex digits) (run `mtactors session list --help` for usage)", "session", "list", "--auth-key", "0x")]
    [InlineData("--timeout: 'abc' is not a number (run `mtactors stats --help` for usage)", "stats", "--timeout", "abc")]
    [InlineData("--timeout must be more than 0 and at most 3600 seconds (run `mtactors stats --help` for usage)", "stats", "--timeout", "0")]
    [InlineData("--page-size: 'ten' is not a whole number (run `mtactors session list --help` for usage)", "session", "list", "--page-size", "ten")]
    [InlineData("--page-size must be 1..10000 (got 0) (run `mtactors session list --help` for usage)", "session", "list", "--page-size", "0")]
    [InlineData("--duration must be 0.1..86400 (got 0) (run `mtactors bench --help` for usage)", "bench", "--duration", "0")]
    public async Task Usage_errors_name_the_problem(string expected, params string[] args)
    {
        var r = await Mtactors.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Equal("error: " + expected, r.Err.TrimEnd());
    }
}
