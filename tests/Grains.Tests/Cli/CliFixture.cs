using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Hosting;
using MtActors.Silo.Postgres;
using Npgsql;

namespace MtActors.Grains.Tests.Cli;

/// <summary>
/// A throwaway PostgreSQL and one real silo (<see cref="SiloHost.Build"/>, as `dotnet run --project src/Silo` builds
/// it) on free loopback ports against it, with its data directory (cluster.json) under the temp directory: what the
/// CLI talks to in these tests. The CLI finds it through <see cref="DataDirectory"/>, as on a silo's machine.
/// </summary>
public sealed class CliFixture : IAsyncLifetime
{
    private int _databases;

    public LocalPostgres Server { get; private set; } = null!;

    public WebApplication Silo { get; private set; } = null!;

    /// <summary>Connection string of the silo's database.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>Cluster id and service id of the silo.</summary>
    public string ClusterId { get; } = "cli-" + Guid.NewGuid().ToString("N")[..10];

    public string DataDirectory { get; } =
        Path.Combine(Path.GetTempPath(), "mtactors-clitest-" + Guid.NewGuid().ToString("N")[..12]);

    public IGrainFactory Grains => Silo.Services.GetRequiredService<IGrainFactory>();

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        Server = await LocalPostgres.StartThrowawayAsync("mtactors_cli", cancellationToken: timeout.Token);
        ConnectionString = await CreateMigratedDatabaseAsync("cli");
        string[] args =
        [
            $"--ConnectionStrings:MtActors={ConnectionString}",
            $"--MtActors:ClusterId={ClusterId}",
            $"--MtActors:ServiceId={ClusterId}",
            $"--MtActors:DataDirectory={DataDirectory}",
            $"--MtActors:SiloPort={LocalPostgres.FreeLoopbackPort()}",
            $"--MtActors:GatewayPort={LocalPostgres.FreeLoopbackPort()}",
            "--MtActors:Http:Port=0",
            "--MtActors:MtProto:Port=0",
            "--MtActors:MigrateOnStart=false",
            "--MtActors:ShutdownTimeoutSeconds=10",
            "--Logging:LogLevel:Default=Warning",
        ];
        Silo = SiloHost.Build(args);
        await Silo.StartAsync(timeout.Token).WaitAsync(timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await Silo.StopAsync(stop.Token);
            }
            finally
            {
                await Silo.DisposeAsync();
            }
        }

        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    /// <summary>A new database with the schema; returns its connection string.</summary>
    public async Task<string> CreateMigratedDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Interlocked.Increment(ref _databases)}".ToLowerInvariant();
        await Sql.ExecuteAsync(Server.ConnectionString, $"CREATE DATABASE \"{name}\"");
        var cs = new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Database = name }.ConnectionString;
        await SchemaMigrator.ApplyAsync(cs);
        return cs;
    }

    /// <summary>A registered permanent auth key with <paramref name="sessions"/> live sessions (created as a first message does).</summary>
    public async Task<(long AuthKeyId, long[] SessionIds)> NewKeyWithSessionsAsync(int sessions)
    {
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(Grains);
        var ids = new long[sessions];
        var now = DateTimeOffset.UtcNow;
        await Parallel.ForEachAsync(Enumerable.Range(0, sessions), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) =>
            {
                var id = TestData.NewSessionId();
                var r = await Grains.GetSessionGrain(authKeyId, id).Receive(TestData.Frame(salt, TestData.ClientMsgId(now, i)));
                Assert.Equal(ReceiveStatus.Ok, r.Status);
                Assert.True(r.Created);
                ids[i] = id;
            });
        return (authKeyId, ids);
    }

    /// <summary>
    /// Inserts <paramref name="count"/> synthetic session rows (ids only; the payload is never read by listing) for
    /// <paramref name="serviceId"/> into <paramref name="connectionString"/>: a big table in a second.
    /// </summary>
    public static async Task InsertSessionRowsAsync(string connectionString, string serviceId, IEnumerable<(long AuthKeyId, long SessionId)> rows)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var import = await connection.BeginBinaryImportAsync(
            "COPY grain_state (serviceid, graintypestring, grainidn0, grainidn1, payloadbinary, version) FROM STDIN (FORMAT BINARY)");
        foreach (var (a, s) in rows)
        {
            await import.StartRowAsync();
            await import.WriteAsync(serviceId);
            await import.WriteAsync("session");
            await import.WriteAsync(a);
            await import.WriteAsync(s);
            await import.WriteAsync(new byte[] { 1 });
            await import.WriteAsync(1);
        }

        await import.CompleteAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliFixture>
{
    public const string Name = "cli";
}
