using Microsoft.AspNetCore.Builder;
using MtActors.Silo.Hosting;
using MtActors.Silo.Postgres;

namespace MtActors.Grains.Tests.SiloHosting;

/// <summary>
/// The real silo host (<see cref="SiloHost.Build"/>, as `dotnet run --project src/Silo` builds it) started in this
/// process on free loopback ports, with its data directory under the temp directory.
/// </summary>
internal sealed class SiloUnderTest : IAsyncDisposable
{
    public static readonly TimeSpan StartBound = TimeSpan.FromSeconds(120);

    private SiloUnderTest(WebApplication app, string dataDirectory)
    {
        App = app;
        DataDirectory = dataDirectory;
    }

    public WebApplication App { get; }

    public string DataDirectory { get; }

    public static string NewDataDirectory() =>
        Path.Combine(Path.GetTempPath(), "mtactors-silotest-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>Starts a silo with the embedded default (no connection string) in <paramref name="dataDirectory"/>.</summary>
    public static async Task<SiloUnderTest> StartAsync(string dataDirectory, string clusterId, params string[] extra)
    {
        string[] args =
        [
            $"--MtActors:DataDirectory={dataDirectory}",
            $"--MtActors:ClusterId={clusterId}",
            $"--MtActors:ServiceId={clusterId}",
            $"--MtActors:SiloPort={LocalPostgres.FreeLoopbackPort()}",
            $"--MtActors:GatewayPort={LocalPostgres.FreeLoopbackPort()}",
            "--MtActors:MtProto:Port=0",
            "--MtActors:Http:Port=0",
            "--MtActors:ShutdownTimeoutSeconds=20",
            "--Logging:LogLevel:Default=Warning",
            .. extra,
        ];
        var app = SiloHost.Build(args);
        try
        {
            await app.StartAsync().WaitAsync(StartBound);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new SiloUnderTest(app, dataDirectory);
    }

    /// <summary>Graceful stop (as SIGTERM does), bounded.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await App.StopAsync(stop.Token);
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}
