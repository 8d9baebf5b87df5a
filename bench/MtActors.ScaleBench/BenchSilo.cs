using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MtActors.Silo.Hosting;
using MtActors.Silo.Postgres;

namespace MtActors.ScaleBench;

/// <summary>A PostgreSQL server of its own and the real silo host in this process (its grain factory used directly, as the gateway does).</summary>
internal sealed class BenchSilo : IAsyncDisposable
{
    private readonly string _root;

    private BenchSilo(string root, string serviceId, LocalPostgres postgres, WebApplication app)
    {
        _root = root;
        ServiceId = serviceId;
        Postgres = postgres;
        App = app;
        Grains = app.Services.GetRequiredService<IGrainFactory>();
    }

    public LocalPostgres Postgres { get; }

    public WebApplication App { get; }

    public IGrainFactory Grains { get; }

    public string ServiceId { get; }

    /// <summary>Starts PostgreSQL (durable: fsync and synchronous_commit on, unless <paramref name="throwaway"/>) and a silo.</summary>
    public static async Task<BenchSilo> StartAsync(bool throwaway, params string[] extra)
    {
        var root = Path.Combine(Path.GetTempPath(), "mtactors-scalebench-" + Guid.NewGuid().ToString("N")[..10]);
        var postgres = await LocalPostgres.StartAsync(new LocalPostgresOptions
        {
            RootDirectory = Path.Combine(root, "postgres"),
            Throwaway = throwaway,
            MaxConnections = 300,
        });
        await SchemaMigrator.ApplyAsync(postgres.ConnectionString);
        // Bursts of thousands of new sessions queue their writes: wait for a pooled connection up to 30 s, not 5.
        var connectionString = new Npgsql.NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Timeout = 30 }.ConnectionString;
        var serviceId = "bench" + Guid.NewGuid().ToString("N")[..8];
        string[] args =
        [
            $"--ConnectionStrings:MtActors={connectionString}",
            $"--MtActors:ClusterId={serviceId}",
            $"--MtActors:ServiceId={serviceId}",
            $"--MtActors:DataDirectory={Path.Combine(root, "silo")}",
            $"--MtActors:SiloPort={LocalPostgres.FreeLoopbackPort()}",
            $"--MtActors:GatewayPort={LocalPostgres.FreeLoopbackPort()}",
            "--MtActors:Http:Port=0",
            "--MtActors:MtProto:Enabled=false",
            "--MtActors:MigrateOnStart=false",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Orleans.Storage=Critical", // failed writes are counted by the bench itself
            "--Logging:LogLevel:MtActors=Error",
            .. extra,
        ];
        var app = SiloHost.Build(args);
        await app.StartAsync();
        return new BenchSilo(root, serviceId, postgres, app);
    }

    /// <summary>Resident set size of this process in bytes.</summary>
    public static long Rss()
    {
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return p.WorkingSet64;
    }

    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
        {
            await App.StopAsync(stop.Token);
        }

        await App.DisposeAsync();
        await Postgres.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
