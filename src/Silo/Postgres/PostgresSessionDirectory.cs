using MtActors.Grains;
using MtActors.Grains.AuthKeys;
using Npgsql;

namespace MtActors.Silo.Postgres;

/// <summary>
/// The sessions of an auth key are the session rows of <c>grain_state</c> whose <c>grainidn0</c> is the key's id
/// (the session grain's Guid key is auth_key_id + session_id, stored as its two halves). The primary key starts with
/// <c>(serviceid, graintypestring, grainidn0)</c>, so this is one index range scan; no index of its own is needed.
/// Uses the same connection string (and so the same Npgsql pool) as the grain storage.
/// </summary>
internal sealed class PostgresSessionDirectory(string connectionString, string serviceId) : ISessionDirectory
{
    private const string ListSql =
        "SELECT grainidn1 FROM grain_state WHERE serviceid = $1 AND graintypestring = $2 AND grainidn0 = $3 " +
        "AND grainidextensionstring = '' ORDER BY grainidn1";

    public async Task<long[]> ListAsync(long authKeyId, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(ListSql, connection);
        command.Parameters.AddWithValue(serviceId);
        command.Parameters.AddWithValue(GrainServices.SessionStateName);
        command.Parameters.AddWithValue(authKeyId);
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetInt64(0));
        return [.. ids];
    }

    public void Stored(long authKeyId, long sessionId)
    {
    }

    public void Removed(long authKeyId, long sessionId)
    {
    }
}
