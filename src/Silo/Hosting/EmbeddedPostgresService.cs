using Microsoft.Extensions.Logging;
using MtActors.Silo.Postgres;

namespace MtActors.Silo.Hosting;

/// <summary>
/// Starts the embedded PostgreSQL with the host and stops it with the host. Registered before Orleans, so that it
/// starts before the silo and stops after it (hosted services stop in reverse order).
/// </summary>
internal sealed partial class EmbeddedPostgresService(DatabaseSettings database, ILogger<LocalPostgres> logger)
    : IHostedService, IAsyncDisposable
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (database.Embedded is not { } pg)
        {
            return;
        }

        pg.Logger = logger;
        LogStarting(logger, pg.RootDirectory);
        await pg.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (database.Embedded is { } pg)
        {
            await pg.StopAsync();
        }
    }

    /// <summary>A host whose start failed never calls StopAsync: the server is stopped when the host is disposed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (database.Embedded is { } pg)
        {
            await pg.StopAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting the embedded PostgreSQL in {RootDirectory}")]
    private static partial void LogStarting(ILogger logger, string rootDirectory);
}
