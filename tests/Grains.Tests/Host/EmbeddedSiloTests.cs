using System.Text.Json;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Grains.Tests.Tools;
using MtActors.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace MtActors.Grains.Tests.SiloHosting;

/// <summary>
/// The silo as `dotnet run --project src/Silo` starts it with no configuration: its own PostgreSQL in the data
/// directory (initdb on first run), the schema applied, cluster.json for the CLI; state survives a restart; the CLI
/// finds it with nothing but the data directory.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EmbeddedSiloTests
{
    private static async Task<long> ReceiveFirstMessageAsync(IGrainFactory grains, long authKeyId, long sessionId, long salt)
    {
        var result = await grains.GetSessionGrain(authKeyId, sessionId)
            .Receive(TestData.Frame(salt, TestData.ClientMsgId(DateTimeOffset.UtcNow)));
        Assert.Equal(ReceiveStatus.Ok, result.Status);
        Assert.True(result.Created);
        var info = await grains.GetSessionGrain(authKeyId, sessionId).GetInfo();
        Assert.NotNull(info);
        return info.UniqueId;
    }

    [Fact]
    public async Task Embedded_default_keeps_state_across_a_restart_and_the_cli_destroys_ok_then_none()
    {
        var dataDirectory = SiloUnderTest.NewDataDirectory();
        var clusterId = "embedded-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            long authKeyId, sessionId = TestData.NewSessionId(), uniqueId;
            string firstConnection;
            await using (var silo = await SiloUnderTest.StartAsync(dataDirectory, clusterId))
            {
                // initdb ran in the data directory; cluster.json describes the cluster, readable by its owner only.
                Assert.True(File.Exists(Path.Combine(dataDirectory, "postgres", "data", "PG_VERSION")));
                var clusterJson = Path.Combine(dataDirectory, "cluster.json");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(clusterJson));
                using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(clusterJson));
                Assert.Equal(clusterId, doc.RootElement.GetProperty("clusterId").GetString());
                firstConnection = doc.RootElement.GetProperty("connectionString").GetString()!;

                var grains = silo.App.Services.GetRequiredService<IGrainFactory>();
                (authKeyId, var salt) = await TestData.RegisterKeyAsync(grains);
                uniqueId = await ReceiveFirstMessageAsync(grains, authKeyId, sessionId, salt);
            }

            // Stopped with the silo: the embedded PostgreSQL no longer accepts connections.
            await using (var probe = new NpgsqlConnection(firstConnection))
            {
                await Assert.ThrowsAnyAsync<Exception>(() => probe.OpenAsync());
            }

            await using (var silo = await SiloUnderTest.StartAsync(dataDirectory, clusterId))
            {
                // The CLI finds the local silo from the data directory alone.
                var shown = await Mtactors.RunAsync(
                    "session", "show", authKeyId.ToString(), "0x" + sessionId.ToString("x"), "--data-dir", dataDirectory, "--json");
                Assert.True(shown.ExitCode == 0, shown.Err);
                using var info = JsonDocument.Parse(shown.Out);
                Assert.Equal(uniqueId, info.RootElement.Id("unique_id"));
                Assert.Equal(sessionId, info.RootElement.Id("session_id"));

                var listed = await Mtactors.RunAsync("authkey", "sessions", authKeyId.ToString(), "--data-dir", dataDirectory);
                Assert.Equal(0, listed.ExitCode);
                Assert.Contains(sessionId.ToString(), listed.Out);

                var first = await Mtactors.RunAsync("session", "destroy", authKeyId.ToString(), sessionId.ToString(), "--data-dir", dataDirectory);
                Assert.Equal(0, first.ExitCode);
                Assert.StartsWith("destroy_session_ok", first.Out);

                var second = await Mtactors.RunAsync("session", "destroy", authKeyId.ToString(), sessionId.ToString(), "--data-dir", dataDirectory);
                Assert.Equal(0, second.ExitCode);
                Assert.StartsWith("destroy_session_none", second.Out);

                var gone = await Mtactors.RunAsync("session", "show", authKeyId.ToString(), sessionId.ToString(), "--data-dir", dataDirectory);
                Assert.Equal(MtActors.Client.ExitCodes.NotFound, gone.ExitCode);
                Assert.Equal("", gone.Out);
                Assert.Single(gone.Err.TrimEnd().Split('\n'));

                // The row is gone from the database, not left as a tombstone.
                var connection = ClusterFile.TryRead(dataDirectory)!.ConnectionString;
                Assert.Equal(0, await Sql.SessionRowsAsync(connection, clusterId, authKeyId, sessionId));
            }
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task The_silo_executable_stops_gracefully_on_sigterm_and_stops_its_postgres()
    {
        var dataDirectory = SiloUnderTest.NewDataDirectory();
        var self = typeof(EmbeddedSiloTests).Assembly.GetName().Name;
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "exec", "--runtimeconfig", Path.Combine(AppContext.BaseDirectory, self + ".runtimeconfig.json"),
                     "--depsfile", Path.Combine(AppContext.BaseDirectory, self + ".deps.json"),
                     Path.Combine(AppContext.BaseDirectory, "MtActors.Silo.dll"),
                     $"--MtActors:DataDirectory={dataDirectory}",
                     $"--MtActors:SiloPort={Silo.Postgres.LocalPostgres.FreeLoopbackPort()}",
                     $"--MtActors:GatewayPort={Silo.Postgres.LocalPostgres.FreeLoopbackPort()}",
                     "--MtActors:MtProto:Port=0",
                     "--MtActors:Http:Port=0",
                 })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("ConnectionStrings__MtActors");
        using var process = System.Diagnostics.Process.Start(psi)!;
        var started = new TaskCompletionSource();
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            lock (log)
            {
                log.AppendLine(e.Data);
            }

            if (e.Data?.Contains("Application started", StringComparison.Ordinal) == true)
            {
                started.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (log)
            {
                log.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await started.Task.WaitAsync(SiloUnderTest.StartBound);
            var pidFile = Path.Combine(dataDirectory, "postgres", "data", "postmaster.pid");
            Assert.True(File.Exists(pidFile));

            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString()]))
            {
                await kill.WaitForExitAsync();
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, log.ToString());
            Assert.False(File.Exists(pidFile), "the embedded PostgreSQL is still running");
            Assert.Contains("PostgreSQL on port", log.ToString());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            var pg = Path.Combine(dataDirectory, "postgres", "data");
            if (File.Exists(Path.Combine(pg, "postmaster.pid")))
            {
                // Never leave a server behind, even when the test failed.
                await using var cleanup = await Silo.Postgres.LocalPostgres.StartAsync(
                    new Silo.Postgres.LocalPostgresOptions { RootDirectory = Path.Combine(dataDirectory, "postgres") });
            }

            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
