using MtActors.Interop.Tests.Clients;

namespace MtActors.Interop.Tests.Examples;

// This file is the example of README "Testing your client against MtActors": an application's integration test
// starts MtActors in its own process with MtActors.Testing and points a real MTProto client at it. Here the clients
// are mtcute and GramJS from npm, driven through tests/Interop.Tests/Clients; yours would be your own client.

/// <summary>The fixture: one line. MtActorsFixture already has xunit's IAsyncLifetime methods.</summary>
public sealed class MtActorsServer : MtActorsFixture, IAsyncLifetime
{
}

/// <summary>The same, with the state in PostgreSQL (a throwaway server of its own) instead of memory.</summary>
public sealed class MtActorsServerOnPostgres : MtActorsFixture, IAsyncLifetime
{
    protected override void Configure(MtActorsTestServerOptions options) => options.Storage = MtActorsStorage.PostgreSql;
}

public sealed class ConnectYourClientExample(MtActorsServer mtactors) : IClassFixture<MtActorsServer>
{
    [Fact]
    public async Task Mtcute_creates_an_auth_key_pings_and_the_server_has_its_session()
    {
        var server = mtactors.Server;

        // The client needs: address and port, the DC id, and the server's RSA public key (PEM; here as a file).
        var run = await NodeClient.Mtcute.RunAsync(new ClientOptions
        {
            Host = server.Address,
            Port = server.Port,
            DcId = server.DcId,
            RsaKeyPath = server.PublicKeyPath,
            Scenario = "connect-ping",
            Timeout = TimeSpan.FromSeconds(30),
        });
        run.EnsureOk();

        // The server side, through the grains: the key the client created and its session exist.
        var authKeyId = run.AuthKeyId!.Value;
        var sessionId = long.Parse(run.Get("sessionId")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(await server.AuthKeyExistsAsync(authKeyId));
        Assert.Contains(sessionId, await server.GetSessionIdsAsync(authKeyId));
        var session = await server.GetSessionAsync(authKeyId, sessionId);
        Assert.NotNull(session);
        Assert.True(session.LastClientMsgId > 0);

        // And destroy it from the server side, as the CLI or the HTTP API would.
        Assert.True(await server.DestroySessionAsync(authKeyId, sessionId));
        Assert.Null(await server.GetSessionAsync(authKeyId, sessionId));
    }

    [Fact]
    public async Task GramJs_starts_from_a_pre_shared_key()
    {
        var server = mtactors.Server;
        var key = await server.CreateAuthKeyAsync(); // registered on the server; the client skips the key exchange

        var run = await NodeClient.GramJs.RunAsync(new ClientOptions
        {
            Port = server.Port,
            DcId = server.DcId,
            AuthKey = key.Key,
            Scenario = "connect-ping",
            Mode = "sender",
            Timeout = TimeSpan.FromSeconds(30),
        });
        run.EnsureOk();

        Assert.Equal(key.Id, run.AuthKeyId);
        var sessionId = long.Parse(run.Get("sessionId")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(sessionId, await server.GetSessionIdsAsync(key.Id));
    }
}

public sealed class ConnectYourClientOnPostgresExample(MtActorsServerOnPostgres mtactors) : IClassFixture<MtActorsServerOnPostgres>
{
    [Fact]
    public async Task The_session_a_client_creates_is_a_row_in_postgres()
    {
        var server = mtactors.Server;
        var key = await server.CreateAuthKeyAsync();
        var run = await NodeClient.Mtcute.RunAsync(new ClientOptions
        {
            Port = server.Port,
            DcId = server.DcId,
            AuthKey = key.Key,
            Scenario = "connect-ping",
            Timeout = TimeSpan.FromSeconds(30),
        });
        run.EnsureOk();

        var sessionId = long.Parse(run.Get("sessionId")!, System.Globalization.CultureInfo.InvariantCulture);
        await using var db = new Npgsql.NpgsqlConnection(server.ConnectionString);
        await db.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM grain_state WHERE serviceid = @s AND graintypestring = 'session' AND grainidn0 = @k AND grainidn1 = @id", db);
        count.Parameters.AddWithValue("s", server.ServiceId);
        count.Parameters.AddWithValue("k", key.Id);
        count.Parameters.AddWithValue("id", sessionId);
        Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
    }
}
