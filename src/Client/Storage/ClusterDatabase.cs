using System.Globalization;
using Npgsql;
using Orleans.Runtime;

namespace MtActors.Client.Storage;

/// <summary>One stored session: its ids and when its row was last written.</summary>
public sealed record SessionRow(long AuthKeyId, long SessionId, DateTimeOffset LastWriteAt);

/// <summary>One row of the Orleans membership table.</summary>
public sealed record SiloRow(
    string Address, int Port, int Generation, string Name, string HostName, SiloStatus Status, int? GatewayPort,
    DateTimeOffset StartedAt, DateTimeOffset IAmAliveAt);

/// <summary>
/// A position in the stable session order (auth_key_id, then session_id, both as signed 64-bit numbers): a page
/// continues after it. Printed as 32 hex digits, the two ids' bits.
/// </summary>
public readonly record struct SessionCursor(long AuthKeyId, long SessionId)
{
    public override string ToString() =>
        ((ulong)AuthKeyId).ToString("x16", CultureInfo.InvariantCulture) +
        ((ulong)SessionId).ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Parses what <see cref="ToString"/> printed.</summary>
    public static bool TryParse(string? text, out SessionCursor cursor)
    {
        cursor = default;
        var s = text?.Trim() ?? "";
        if (s.Length != 32 ||
            !ulong.TryParse(s.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var a) ||
            !ulong.TryParse(s.AsSpan(16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
        {
            return false;
        }

        cursor = new SessionCursor(unchecked((long)a), unchecked((long)b));
        return true;
    }
}

/// <summary>
/// Reads the cluster's tables directly (no silo needed): session and auth key rows of the grain storage table
/// (docs/persistence.md: a session row's grainidn0/grainidn1 are its auth_key_id/session_id, an auth key row's
/// grainidn1 is its auth_key_id) and the Orleans membership table. Read-only; every command bounded by the
/// CLI's timeout.
/// </summary>
public sealed class ClusterDatabase : IAsyncDisposable
{
    /// <summary>graintypestring of session rows (GrainServices.SessionStateName in src/Grains).</summary>
    public const string SessionStateName = "session";

    /// <summary>graintypestring of auth key rows (GrainServices.AuthKeyStateName in src/Grains).</summary>
    public const string AuthKeyStateName = "authkey";

    private readonly NpgsqlDataSource _dataSource;
    private readonly ClusterConnection _connection;
    private readonly TimeSpan _timeout;

    public ClusterDatabase(ClusterConnection connection, TimeSpan timeout)
    {
        _connection = connection;
        _timeout = timeout;
        _dataSource = NpgsqlDataSource.Create(ClusterClientFactory.Bounded(connection.ConnectionString, timeout));
    }

    /// <summary>Counts the stored sessions of the service, or of one auth key.</summary>
    public async Task<long> CountSessionsAsync(long? authKeyId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM grain_state WHERE serviceid = @s AND graintypestring = @t" +
                              (authKeyId is null ? "" : " AND grainidn0 = @k");
        command.Parameters.AddWithValue("s", _connection.ServiceId);
        command.Parameters.AddWithValue("t", SessionStateName);
        if (authKeyId is { } k)
        {
            command.Parameters.AddWithValue("k", k);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <summary>Counts the stored auth keys of the service.</summary>
    public async Task<long> CountAuthKeysAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM grain_state WHERE serviceid = @s AND graintypestring = @t";
        command.Parameters.AddWithValue("s", _connection.ServiceId);
        command.Parameters.AddWithValue("t", AuthKeyStateName);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// One page of stored sessions in the stable order (auth_key_id, session_id): those after <paramref name="after"/>
    /// (keyset paging, cheap at any depth) or, without a cursor, from <paramref name="offset"/>.
    /// </summary>
    public async Task<List<SessionRow>> ReadSessionsAsync(
        long? authKeyId, SessionCursor? after, long offset, int limit, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        var where = "serviceid = @s AND graintypestring = @t";
        command.Parameters.AddWithValue("s", _connection.ServiceId);
        command.Parameters.AddWithValue("t", SessionStateName);
        if (authKeyId is { } k)
        {
            where += " AND grainidn0 = @k";
            command.Parameters.AddWithValue("k", k);
        }

        if (after is { } c)
        {
            where += " AND (grainidn0, grainidn1) > (@a, @b)";
            command.Parameters.AddWithValue("a", c.AuthKeyId);
            command.Parameters.AddWithValue("b", c.SessionId);
        }

        command.CommandText =
            $"SELECT grainidn0, grainidn1, modifiedon FROM grain_state WHERE {where} " +
            "ORDER BY grainidn0, grainidn1 LIMIT @n OFFSET @o";
        command.Parameters.AddWithValue("n", limit);
        command.Parameters.AddWithValue("o", offset);
        var rows = new List<SessionRow>(Math.Min(limit, 4096));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new SessionRow(reader.GetInt64(0), reader.GetInt64(1),
                reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return rows;
    }

    /// <summary>The membership table's rows of this cluster, oldest start first.</summary>
    public async Task<List<SiloRow>> ReadSilosAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime " +
            "FROM membership WHERE deploymentid = @d ORDER BY starttime, address, port, generation";
        command.Parameters.AddWithValue("d", _connection.ClusterId);
        var rows = new List<SiloRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new SiloRow(
                reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4),
                (SiloStatus)reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetInt32(6),
                reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8)));
        }

        return rows;
    }

    /// <summary>Opens a connection; failures to reach the database or a missing schema become exit code 3.</summary>
    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(ct);
            if (!await HasSchemaAsync(connection, ct))
            {
                await connection.DisposeAsync();
                throw new CliException(ExitCodes.NoCluster,
                    $"cannot use {Where}: the database has no MtActors schema (run the silo's migrate command)");
            }

            return connection;
        }
        catch (NpgsqlException ex) when (!ct.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.NoCluster, ClusterClientFactory.ExplainDatabase(ex, Where, _timeout), ex);
        }
    }

    private bool _schemaChecked;

    private async Task<bool> HasSchemaAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        if (_schemaChecked)
        {
            return true;
        }

        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT to_regclass('grain_state') IS NOT NULL AND to_regclass('membership') IS NOT NULL";
        _schemaChecked = (bool)(await command.ExecuteScalarAsync(ct))!;
        return _schemaChecked;
    }

    private string Where => $"cluster '{_connection.ClusterId}' ({_connection.Describe()}, from {_connection.Source})";

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
