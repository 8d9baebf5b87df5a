using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace MtActors.Silo.Postgres;

/// <summary>
/// Applies the project's schema scripts (deploy/sql/*.sql, copied next to the silo as <c>sql/</c>) to a
/// PostgreSQL database, in file-name order, inside one transaction:
/// <list type="bullet">
/// <item>a transaction-level advisory lock serialises silos that start together (the second waits and
/// then finds everything applied);</item>
/// <item>table <c>mtactors_schema_migrations</c> records each script's name and SHA-256; a script whose
/// recorded hash matches is skipped, a new or changed one is (re)applied: every script is written to be
/// safe to apply twice (IF NOT EXISTS, ON CONFLICT DO UPDATE), so a changed query text simply replaces the
/// old one;</item>
/// <item>all or nothing: a failing script rolls back the whole run.</item>
/// </list>
/// The database itself must exist.
/// </summary>
public static class SchemaMigrator
{
    /// <summary>The advisory lock key (any constant shared by every silo of the project): "MtActors" in ASCII.</summary>
    public const long AdvisoryLockKey = 0x4D74_4163_746F_7273;

    /// <summary>Where the silo's build output keeps the scripts.</summary>
    public static string DefaultScriptDirectory => Path.Combine(AppContext.BaseDirectory, "sql");

    /// <summary>Applies the scripts; returns the names of the scripts applied by this call (empty: nothing to do).</summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(
        string connectionString, string? scriptDirectory = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        return await ApplyAsync(dataSource, scriptDirectory, logger, cancellationToken);
    }

    /// <inheritdoc cref="ApplyAsync(string, string?, ILogger?, CancellationToken)"/>
    public static async Task<IReadOnlyList<string>> ApplyAsync(
        NpgsqlDataSource dataSource, string? scriptDirectory = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        logger ??= NullLogger.Instance;
        string directory = scriptDirectory ?? DefaultScriptDirectory;
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"schema scripts not found: {directory} (expected deploy/sql/*.sql copied to sql/)");
        }
        var scripts = Directory.GetFiles(directory, "*.sql")
            .Order(StringComparer.Ordinal)
            .Select(path => (Name: Path.GetFileName(path), Text: File.ReadAllText(path)))
            .ToList();
        if (scripts.Count == 0) throw new InvalidOperationException($"no *.sql schema scripts in {directory}");

        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);

        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS mtactors_schema_migrations
            (
                script    text        NOT NULL PRIMARY KEY,
                sha256    text        NOT NULL,
                appliedat timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken);

        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand("SELECT script, sha256 FROM mtactors_schema_migrations", connection, transaction))
        await using (NpgsqlDataReader reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) recorded[reader.GetString(0)] = reader.GetString(1);
        }

        var applied = new List<string>();
        foreach ((string name, string text) in scripts)
        {
            string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
            if (recorded.TryGetValue(name, out string? known) && known == hash) continue;
            try
            {
                await ExecuteAsync(connection, transaction, text, cancellationToken);
            }
            catch (PostgresException ex)
            {
                throw new InvalidOperationException($"schema script {name} failed: {ex.MessageText}", ex);
            }
            await using (var record = new NpgsqlCommand("""
                INSERT INTO mtactors_schema_migrations (script, sha256) VALUES (@script, @sha256)
                ON CONFLICT (script) DO UPDATE SET sha256 = EXCLUDED.sha256, appliedat = now()
                """, connection, transaction))
            {
                record.Parameters.AddWithValue("script", name);
                record.Parameters.AddWithValue("sha256", hash);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            applied.Add(name);
            logger.LogInformation("Schema script {Script} applied", name);
        }
        await transaction.CommitAsync(cancellationToken);
        if (applied.Count == 0) logger.LogDebug("Schema up to date ({Count} scripts)", scripts.Count);
        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
