using MtActors.Silo.Postgres;
using Npgsql;
using Orleans.TestingHost;

namespace MtActors.Grains.Tests.Infrastructure;

/// <summary>
/// One throwaway PostgreSQL server for the whole "postgres" collection (started by the test run itself,
/// on a free loopback port, deleted at the end). Each test class takes a fresh database from it.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private int _databases;

    public LocalPostgres Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        Server = await LocalPostgres.StartThrowawayAsync("mtactors_tests", cancellationToken: timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (_shared is not null)
        {
            SharedCluster shared = await _shared;
            await shared.Cluster.DisposeAsync();
        }
        foreach (Task<SharedCluster> named in _named.Values)
        {
            await (await named).Cluster.DisposeAsync();
        }
        await Server.DisposeAsync();
    }

    private Task<SharedCluster>? _shared;
    private readonly Dictionary<string, Task<SharedCluster>> _named = [];

    /// <summary>
    /// A single-silo cluster of its own (started once per name, disposed with the fixture), with extra silo
    /// configuration (e.g. API handlers or options); its grain clock is fake like the shared one's.
    /// </summary>
    public Task<SharedCluster> GetClusterAsync(string name, Action<ISiloBuilder> configure)
    {
        lock (_named)
        {
            if (!_named.TryGetValue(name, out Task<SharedCluster>? cluster))
            {
                _named[name] = cluster = StartNamedAsync(name, configure);
            }
            return cluster;
        }
    }

    private async Task<SharedCluster> StartNamedAsync(string name, Action<ISiloBuilder> configure)
    {
        string db = await CreateMigratedDatabaseAsync(name);
        var clock = new TestClock(DateTimeOffset.UtcNow);
        InProcessTestCluster cluster = await MtCluster.StartAsync(db, name, clock, configure: configure);
        return new SharedCluster(cluster, db, name, clock);
    }

    /// <summary>
    /// One single-silo cluster shared by the tests that need nothing special (each uses its own fresh
    /// auth keys). Its grain clock is fake: tests may advance it (never back).
    /// </summary>
    public Task<SharedCluster> GetSharedClusterAsync() => _shared ??= StartSharedAsync();

    private async Task<SharedCluster> StartSharedAsync()
    {
        string db = await CreateMigratedDatabaseAsync("shared");
        var clock = new TestClock(DateTimeOffset.UtcNow);
        const string serviceId = "shared";
        InProcessTestCluster cluster = await MtCluster.StartAsync(db, serviceId, clock);
        return new SharedCluster(cluster, db, serviceId, clock);
    }

    /// <summary>A new empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        string name = $"{prefix}_{Interlocked.Increment(ref _databases)}".ToLowerInvariant();
        await Sql.ExecuteAsync(Server.ConnectionString, $"CREATE DATABASE \"{name}\"");
        return new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>A new database with the project's schema applied.</summary>
    public async Task<string> CreateMigratedDatabaseAsync(string prefix)
    {
        string connectionString = await CreateDatabaseAsync(prefix);
        await SchemaMigrator.ApplyAsync(connectionString);
        return connectionString;
    }
}

public sealed record SharedCluster(InProcessTestCluster Cluster, string ConnectionString, string ServiceId, TestClock Clock)
{
    public IGrainFactory Grains => Cluster.Client;
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>Small Npgsql helpers for asserting on the tables directly.</summary>
public static class Sql
{
    public static Task ExecuteAsync(string connectionString, string sql, params (string Name, object Value)[] parameters) =>
        RunAsync(connectionString, sql, parameters, command => command.ExecuteNonQueryAsync());

    public static async Task<long> CountAsync(string connectionString, string sql, params (string Name, object Value)[] parameters) =>
        Convert.ToInt64(await RunAsync(connectionString, sql, parameters, command => command.ExecuteScalarAsync()));

    private static async Task<T> RunAsync<T>(
        string connectionString, string sql, (string Name, object Value)[] parameters, Func<NpgsqlCommand, Task<T>> run)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return await run(command);
    }

    /// <summary>Rows of one grain state in grain_state.</summary>
    public static Task<long> StateRowsAsync(string connectionString, string serviceId, string stateName, long n0, long n1) =>
        CountAsync(connectionString,
            "SELECT count(*) FROM grain_state WHERE serviceid = @s AND graintypestring = @t AND grainidn0 = @n0 AND grainidn1 = @n1",
            ("s", serviceId), ("t", stateName), ("n0", n0), ("n1", n1));

    public static Task<long> SessionRowsAsync(string connectionString, string serviceId, long authKeyId, long sessionId) =>
        StateRowsAsync(connectionString, serviceId, GrainServices.SessionStateName, authKeyId, sessionId);

    public static Task<long> AuthKeyRowsAsync(string connectionString, string serviceId, long authKeyId) =>
        StateRowsAsync(connectionString, serviceId, GrainServices.AuthKeyStateName, 0, authKeyId);
}
