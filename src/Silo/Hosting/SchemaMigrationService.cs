using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MtActors.Silo.Options;

namespace MtActors.Silo.Hosting;

/// <summary>
/// Applies the database schema at start (after the embedded PostgreSQL, before Orleans) when
/// <see cref="MtActorsOptions.MigrateOnStart"/> is on. Applying it twice is harmless.
/// </summary>
internal sealed partial class SchemaMigrationService(
    DatabaseSettings database, IOptions<MtActorsOptions> options, ILogger<SchemaMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.MigrateOnStart)
        {
            LogSkipped(logger);
            return;
        }

        await Schema.ApplyAsync(database.ConnectionString, logger, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "MtActors:MigrateOnStart is off: the schema is not applied")]
    private static partial void LogSkipped(ILogger logger);
}
