using Microsoft.Extensions.Logging;

namespace MtActors.Silo.Hosting;

/// <summary>The one place the silo applies the database schema (at start, and for the <c>migrate</c> command).</summary>
internal static partial class Schema
{
    public static async Task ApplyAsync(string connectionString, ILogger logger, CancellationToken cancellationToken)
    {
        LogApplying(logger, ClusterFile.Redact(connectionString));
        // TODO(grains): call MtActors.Silo.Postgres.SchemaMigrator (the grains helper's, applies deploy/sql) here
        // once it lands on main.
        await Task.CompletedTask;
        throw new InvalidOperationException("The schema migrator is not available yet.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying the MtActors schema to {Database}")]
    private static partial void LogApplying(ILogger logger, string database);
}
