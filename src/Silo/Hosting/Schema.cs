using Microsoft.Extensions.Logging;
using MtActors.Silo.Postgres;

namespace MtActors.Silo.Hosting;

/// <summary>The one place the silo applies the database schema (at start, and for the <c>migrate</c> command).</summary>
internal static partial class Schema
{
    public static async Task ApplyAsync(string connectionString, ILogger logger, CancellationToken cancellationToken)
    {
        var database = ClusterFile.Redact(connectionString);
        LogApplying(logger, database);
        var applied = await SchemaMigrator.ApplyAsync(connectionString, logger: logger, cancellationToken: cancellationToken);
        LogApplied(logger, database, applied.Count == 0 ? "nothing new" : string.Join(", ", applied));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying the MtActors schema to {Database}")]
    private static partial void LogApplying(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema of {Database} is up to date (applied: {Scripts})")]
    private static partial void LogApplied(ILogger logger, string database, string scripts);
}
