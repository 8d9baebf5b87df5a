using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Postgres;
using Npgsql;

namespace MtActors.Grains.Tests.Http;

/// <summary>
/// One throwaway PostgreSQL for the HTTP tests and one silo configured with an admin, a bot and a user token
/// (bot and user bound to auth keys made up front, registered once the silo runs).
/// </summary>
public sealed class HttpFixture : IAsyncLifetime
{
    public const string AdminToken = "admin-token-0123456789abcdef";
    public const string BotToken = "123456789:bot-token-ABCDEFGHIJKLmnop";
    public const string UserToken = "user-token-abcdefghij-0123456789";
    public const string OtherBotToken = "987654321:other-bot-token-ZYXWVUTSRQ";

    private int _databases;

    public LocalPostgres Server { get; private set; } = null!;

    public HttpSilo Silo { get; private set; } = null!;

    /// <summary>The bot token's auth key (registered).</summary>
    public long BotKey { get; private set; }

    /// <summary>The user token's auth key (registered).</summary>
    public long UserKey { get; private set; }

    /// <summary>Another bot's key (registered): the first bot must not reach it.</summary>
    public long OtherKey { get; private set; }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        Server = await LocalPostgres.StartThrowawayAsync("mtactors_http", cancellationToken: timeout.Token);
        var db = await CreateMigratedDatabaseAsync("http");
        var bot = TestData.NewKey();
        var user = TestData.NewKey();
        var other = TestData.NewKey();
        (BotKey, UserKey, OtherKey) = (bot.Id, user.Id, other.Id);
        Silo = await HttpSilo.StartAsync(db, Settings(
            ("Tokens:admin:Token", AdminToken), ("Tokens:admin:Scope", "admin"),
            ("Tokens:farmbot:Token", BotToken), ("Tokens:farmbot:Scope", "bot"), ("Tokens:farmbot:AuthKeyId", "0x" + BotKey.ToString("x16")),
            ("Tokens:alice:Token", UserToken), ("Tokens:alice:Scope", "user"), ("Tokens:alice:AuthKeyId", UserKey.ToString()),
            ("Tokens:otherbot:Token", OtherBotToken), ("Tokens:otherbot:Scope", "bot"), ("Tokens:otherbot:AuthKeyId", OtherKey.ToString()),
            ("RateLimit:Burst", "10000"), ("RateLimit:RequestsPerPeriod", "10000")));
        foreach (var (key, id) in new[] { bot, user, other })
        {
            Assert.Equal(AuthKeyRegisterResult.Registered,
                await Silo.Grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, null)));
        }
    }

    /// <summary><c>MtActors:HttpApi:</c> settings.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Settings(params (string Key, string Value)[] settings) =>
        settings.Select(s => new KeyValuePair<string, string>(s.Key.StartsWith("MtActors:", StringComparison.Ordinal) ? s.Key : "MtActors:HttpApi:" + s.Key, s.Value));

    /// <summary>Creates a live session of <paramref name="authKeyId"/> through the session grain, as a first message does.</summary>
    public async Task<long> NewSessionAsync(long authKeyId)
    {
        var sessionId = TestData.NewSessionId();
        var grains = Silo.Grains;
        var salts = await grains.GetSessionGrain(authKeyId, sessionId).GetFutureSalts(1);
        var result = await grains.GetSessionGrain(authKeyId, sessionId)
            .Receive(TestData.Frame(salts.Salts[0].Salt, TestData.ClientMsgId(DateTimeOffset.UtcNow)));
        Assert.True(result.Created, $"session not created: {result.Status}");
        return sessionId;
    }

    public async Task<string> CreateMigratedDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Interlocked.Increment(ref _databases)}";
        await Sql.ExecuteAsync(Server.ConnectionString, $"CREATE DATABASE \"{name}\"");
        var db = new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Database = name }.ConnectionString;
        await SchemaMigrator.ApplyAsync(db);
        return db;
    }

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }

        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class HttpCollection : ICollectionFixture<HttpFixture>
{
    public const string Name = "http";
}
