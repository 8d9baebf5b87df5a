using System.Diagnostics;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Postgres;
using Npgsql;

namespace MtActors.Grains.Tests;

/// <summary>The self-managed PostgreSQL server that the silo's embedded default and the test fixtures use.</summary>
public sealed class LocalPostgresTests
{
    private static string NewRoot() =>
        Path.Combine(Path.GetTempPath(), "mtactors-pgtest-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task Throwaway_server_accepts_connections_on_loopback_and_is_deleted_on_dispose()
    {
        string root;
        await using (var pg = await LocalPostgres.StartThrowawayAsync("throwaway_db"))
        {
            root = pg.RootDirectory;
            Assert.True(pg.Port > 0);
            var builder = new NpgsqlConnectionStringBuilder(pg.ConnectionString);
            Assert.Equal("127.0.0.1", builder.Host);
            Assert.Equal("throwaway_db", builder.Database);

            await using var conn = new NpgsqlConnection(pg.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT current_database() || ' ' || current_setting('fsync')", conn);
            Assert.Equal("throwaway_db off", (string?)await cmd.ExecuteScalarAsync());
        }

        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public async Task Persistent_server_keeps_data_across_a_restart_and_fsync_is_on()
    {
        var root = NewRoot();
        try
        {
            var options = new LocalPostgresOptions { RootDirectory = root, Database = "keep" };
            string firstConnection;
            await using (var pg = await LocalPostgres.StartAsync(options))
            {
                firstConnection = pg.ConnectionString;
                await Sql.ExecuteAsync(pg.ConnectionString, "CREATE TABLE t (v int); INSERT INTO t VALUES (1), (2), (3)");
                Assert.Equal(1, await Sql.CountAsync(pg.ConnectionString,
                    "SELECT CASE WHEN current_setting('fsync') = 'on' THEN 1 ELSE 0 END"));
            }

            // Stopped: nothing listens there any more, the data directory stays.
            Assert.True(File.Exists(Path.Combine(root, "data", "PG_VERSION")));
            Assert.False(File.Exists(Path.Combine(root, "data", "postmaster.pid")));
            await Assert.ThrowsAnyAsync<Exception>(() => Sql.CountAsync(firstConnection, "SELECT 1"));

            await using (var pg = await LocalPostgres.StartAsync(options))
            {
                Assert.Equal(6, await Sql.CountAsync(pg.ConnectionString, "SELECT sum(v) FROM t"));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_stale_pid_file_from_a_crashed_run_does_not_block_a_restart()
    {
        var root = NewRoot();
        try
        {
            var options = new LocalPostgresOptions { RootDirectory = root };
            await using (var pg = await LocalPostgres.StartAsync(options))
            {
                await Sql.ExecuteAsync(pg.ConnectionString, "CREATE TABLE t (v int); INSERT INTO t VALUES (7)");
            }

            // A pid file whose process is gone, as a power loss or kill -9 of the whole machine leaves it.
            using var dead = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
            dead.WaitForExit();
            var pidFile = Path.Combine(root, "data", "postmaster.pid");
            await File.WriteAllTextAsync(pidFile, $"{dead.Id}\n{Path.Combine(root, "data")}\n0\n5432\n\n\n\n");

            await using (var pg = await LocalPostgres.StartAsync(options))
            {
                Assert.Equal(7, await Sql.CountAsync(pg.ConnectionString, "SELECT sum(v) FROM t"));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_server_left_running_by_a_crashed_process_is_taken_over()
    {
        var root = NewRoot();
        try
        {
            var options = new LocalPostgresOptions { RootDirectory = root };
            var first = await LocalPostgres.StartAsync(options);
            await Sql.ExecuteAsync(first.ConnectionString, "CREATE TABLE t (v int); INSERT INTO t VALUES (5)");

            // While its owner lives, a second one is refused instead of stopping a server in use.
            var refused = await Assert.ThrowsAsync<LocalPostgresException>(() => LocalPostgres.StartAsync(options));
            Assert.Contains("in use by another process", refused.Message);
            Assert.Equal(5, await Sql.CountAsync(first.ConnectionString, "SELECT sum(v) FROM t"));

            // The owner "crashes": its server keeps running, its lock is gone; the next start takes over.
            first.AbandonAsIfCrashed();
            await using (var second = await LocalPostgres.StartAsync(options))
            {
                Assert.Equal(5, await Sql.CountAsync(second.ConnectionString, "SELECT sum(v) FROM t"));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Missing_binaries_give_a_clear_error_with_the_install_command()
    {
        var empty = Directory.CreateTempSubdirectory("mtactors-nobin-");
        try
        {
            var ex = Assert.Throws<LocalPostgresException>(() =>
                LocalPostgres.FindBinDirectory(empty.FullName, Path.Combine(empty.FullName, "nothing")));
            Assert.Contains("apt-get install -y postgresql", ex.Message);
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Fact]
    public void Binaries_are_found_in_the_highest_version_directory_when_not_on_path()
    {
        var lib = Directory.CreateTempSubdirectory("mtactors-pglib-");
        try
        {
            foreach (var version in new[] { "9.6", "13", "16", "notaversion" })
            {
                var bin = Directory.CreateDirectory(Path.Combine(lib.FullName, version, "bin"));
                foreach (var tool in new[] { "initdb", "pg_ctl", "postgres" })
                {
                    File.WriteAllText(Path.Combine(bin.FullName, tool), "");
                }
            }

            Assert.Equal(Path.Combine(lib.FullName, "16", "bin"), LocalPostgres.FindBinDirectory("", lib.FullName));
        }
        finally
        {
            lib.Delete(recursive: true);
        }
    }
}
