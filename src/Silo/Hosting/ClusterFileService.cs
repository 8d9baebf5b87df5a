using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MtActors.Silo.Options;

namespace MtActors.Silo.Hosting;

/// <summary>Writes cluster.json into the data directory once the database is up, so the CLI finds this cluster.</summary>
internal sealed partial class ClusterFileService(
    DatabaseSettings database, IOptions<MtActorsOptions> options, ILogger<ClusterFileService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.Instance != 1)
        {
            return Task.CompletedTask; // instance 1 describes the local cluster; the others join it
        }

        var dir = o.ResolvedDataDirectory;
        new ClusterFile
        {
            ConnectionString = database.ConnectionString,
            ClusterId = o.ClusterId,
            ServiceId = o.ServiceId,
            EmbeddedPostgres = database.Embedded is not null,
        }.Write(dir);
        LogWritten(logger, ClusterFile.PathIn(dir));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrote {Path} for the mtactors CLI")]
    private static partial void LogWritten(ILogger logger, string path);
}
