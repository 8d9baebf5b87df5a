using Microsoft.Extensions.DependencyInjection;
using MtActors.Grains.AuthKeys;
using MtActors.Grains.Tests.Infrastructure;
using Npgsql;
using Orleans.Serialization;

namespace MtActors.Grains.Tests;

[Collection(PostgresCollection.Name)]
public sealed class AuthKeyGrainTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_key_is_registered_once_and_the_same_bytes_again_are_idempotent()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (key, id) = TestData.NewKey();
        IAuthKeyGrain grain = c.Grains.GetAuthKeyGrain(id);
        Assert.Null(await grain.Get());

        var registration = new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, 42);
        Assert.Equal(AuthKeyRegisterResult.Registered, await grain.Register(registration));
        Assert.Equal(1, await Sql.AuthKeyRowsAsync(c.ConnectionString, c.ServiceId, id));
        Assert.Equal(AuthKeyRegisterResult.AlreadyRegistered, await grain.Register(registration with { Key = [.. key] }));

        await c.Cluster.DeactivateAsync(grain);
        AuthKeyInfo? info = await grain.Get();
        Assert.NotNull(info);
        Assert.Equal(key, info.Key);
        Assert.Equal((id, AuthKeyKind.Permanent), (info.AuthKeyId, info.Kind));
    }

    [Fact]
    public async Task Other_key_material_under_the_same_id_and_malformed_keys_are_refused()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (key, id) = TestData.NewKey();
        IAuthKeyGrain grain = c.Grains.GetAuthKeyGrain(id);
        Assert.Equal(AuthKeyRegisterResult.Registered, await grain.Register(new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, null)));

        byte[] other = [.. key];
        other[17] ^= 1;
        Assert.NotEqual(AuthKeyRegisterResult.Registered, await grain.Register(new AuthKeyRegistration(other, AuthKeyKind.Permanent, null, null)));
        Assert.Equal(AuthKeyRegisterResult.Invalid, await grain.Register(new AuthKeyRegistration(key[..255], AuthKeyKind.Permanent, null, null)));
        Assert.Equal(key, (await grain.Get())?.Key);

        var (fresh, freshId) = TestData.NewKey();
        Assert.Equal(AuthKeyRegisterResult.Invalid,
            await c.Grains.GetAuthKeyGrain(freshId).Register(new AuthKeyRegistration(fresh, AuthKeyKind.Temporary, null, null)));
        Assert.Equal(AuthKeyRegisterResult.Invalid,
            await c.Grains.GetAuthKeyGrain(freshId + 1).Register(new AuthKeyRegistration(fresh, AuthKeyKind.Permanent, null, null)));
        Assert.Null(await c.Grains.GetAuthKeyGrain(freshId).Get());
    }

    [Fact]
    public async Task Destroy_auth_key_destroys_every_session_and_erases_the_key()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (id, salt) = await TestData.RegisterKeyAsync(c.Grains);
        long[] sessions = [TestData.NewSessionId(), TestData.NewSessionId(), TestData.NewSessionId()];
        long now = TestData.ClientMsgId(c.Clock.GetUtcNow());
        foreach (long s in sessions) await c.Grains.GetSessionGrain(id, s).Receive(TestData.Frame(salt, now));
        Assert.Equal(sessions.Order(), await c.Grains.GetAuthKeyGrain(id).GetSessionIds());

        Assert.Equal(DestroyAuthKeyResult.Ok, await c.Grains.GetAuthKeyGrain(id).DestroyAuthKey().WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(0, await Sql.AuthKeyRowsAsync(c.ConnectionString, c.ServiceId, id));
        Assert.Equal(0, await Sql.CountAsync(c.ConnectionString, "SELECT count(*) FROM grain_state WHERE graintypestring = 'session' AND grainidn0 = @k", ("k", id)));
        Assert.Null(await c.Grains.GetAuthKeyGrain(id).Get());
        Assert.Empty(await c.Grains.GetAuthKeyGrain(id).GetSessionIds());
        // Later frames for the key: refused, nothing recreated.
        Assert.Equal(ReceiveStatus.AuthKeyUnknown, (await c.Grains.GetSessionGrain(id, sessions[0]).Receive(TestData.Frame(salt, now + 4))).Status);
        Assert.Null(await c.Grains.GetSessionGrain(id, sessions[0]).GetInfo());
        Assert.Equal(DestroyAuthKeyResult.None, await c.Grains.GetAuthKeyGrain(id).DestroyAuthKey());
    }

    [Fact]
    public async Task A_key_row_with_the_session_set_older_versions_wrote_loads_lists_sessions_by_their_rows_and_is_destroyed()
    {
        var (c, id, _, stored, _) = await KeyWithOneSessionAsync();

        // Rewrite the key row as older versions wrote it: with the set of session ids ([Id(6)]), here naming the stored
        // session and one whose row never got written.
        Serializer serializer = c.Cluster.GetSiloServiceProvider(c.Cluster.Silos[0].SiloAddress).GetRequiredService<Serializer>();
        const string KeyRow = "FROM grain_state WHERE serviceid = @s AND graintypestring = 'authkey' AND grainidn0 = 0 AND grainidn1 = @k";
        byte[] payload;
        await using (var connection = new NpgsqlConnection(c.ConnectionString))
        {
            await connection.OpenAsync();
            await using var read = new NpgsqlCommand("SELECT payloadbinary " + KeyRow, connection);
            read.Parameters.AddWithValue("s", c.ServiceId);
            read.Parameters.AddWithValue("k", id);
            payload = (byte[])(await read.ExecuteScalarAsync())!;
        }
        AuthKeyState state = serializer.Deserialize<AuthKeyState>(payload)!;
        Assert.Empty(state.Sessions); // no longer written
        long unwritten = TestData.NewSessionId();
        state.Sessions = [.. new[] { stored, unwritten }.Order()];
        await Sql.ExecuteAsync(c.ConnectionString, "UPDATE grain_state SET payloadbinary = @p WHERE serviceid = @s " +
            "AND graintypestring = 'authkey' AND grainidn0 = 0 AND grainidn1 = @k",
            ("p", serializer.SerializeToArray(state)), ("s", c.ServiceId), ("k", id));
        await c.Cluster.DeactivateAsync(c.Grains.GetAuthKeyGrain(id));

        Assert.NotNull(await c.Grains.GetAuthKeyGrain(id).Get()); // the old row loads
        Assert.Equal(new[] { stored }, (await c.Grains.GetAuthKeyGrain(id).GetSessionIds()).ToArray()); // the rows, not the old set
        Assert.Equal(DestroyAuthKeyResult.Ok, await c.Grains.GetAuthKeyGrain(id).DestroyAuthKey().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await Sql.CountAsync(c.ConnectionString,
            "SELECT count(*) FROM grain_state WHERE serviceid = @s AND (grainidn0 = @k OR grainidn1 = @k)", ("s", c.ServiceId), ("k", id)));
        Assert.Null(await c.Grains.GetSessionGrain(id, stored).GetInfo());
    }

    [Fact]
    public async Task A_session_whose_key_vanished_removes_its_own_row_on_the_next_message()
    {
        var (c, id, salt, sessionId, now) = await KeyWithOneSessionAsync();
        // As if destroy_auth_key had died half way: the key row is gone, the session row is still there.
        await c.Cluster.DeactivateAsync(c.Grains.GetAuthKeyGrain(id));
        await c.Cluster.DeactivateAsync(c.Grains.GetSessionGrain(id, sessionId));
        await Sql.ExecuteAsync(c.ConnectionString, "DELETE FROM grain_state WHERE graintypestring = 'authkey' AND grainidn1 = @k", ("k", id));
        Assert.Equal(1, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, id, sessionId));

        ReceiveResult r = await c.Grains.GetSessionGrain(id, sessionId).Receive(TestData.Frame(salt, now + 4));
        Assert.Equal(ReceiveStatus.AuthKeyUnknown, r.Status);
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, id, sessionId));
    }

    [Fact]
    public async Task A_temporary_key_ends_at_its_expiry_with_its_sessions()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (key, id) = TestData.NewKey();
        DateTimeOffset expiry = c.Clock.GetUtcNow().AddMinutes(10);
        Assert.Equal(AuthKeyRegisterResult.Registered,
            await c.Grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Temporary, expiry, null)));
        long sessionId = TestData.NewSessionId();
        ISessionGrain session = c.Grains.GetSessionGrain(id, sessionId);
        long salt = (await session.GetFutureSalts(1)).Salts[0].Salt;
        Assert.Equal(ReceiveStatus.Ok, (await session.Receive(TestData.Frame(salt, TestData.ClientMsgId(c.Clock.GetUtcNow())))).Status);

        c.Clock.SetUtcNow(expiry.AddSeconds(1));
        Assert.Equal(ReceiveStatus.AuthKeyUnknown,
            (await session.Receive(TestData.Frame(salt, TestData.ClientMsgId(c.Clock.GetUtcNow())))).Status);
        Assert.Null(await c.Grains.GetAuthKeyGrain(id).Get());
        Assert.Equal(0, await Sql.AuthKeyRowsAsync(c.ConnectionString, c.ServiceId, id));
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, id, sessionId));
    }

    /// <summary>A registered key and one session of it, created by a first message at <c>Now</c>.</summary>
    private async Task<(SharedCluster Cluster, long AuthKeyId, long Salt, long SessionId, long Now)> KeyWithOneSessionAsync()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (id, salt) = await TestData.RegisterKeyAsync(c.Grains);
        long sessionId = TestData.NewSessionId();
        long now = TestData.ClientMsgId(c.Clock.GetUtcNow());
        await c.Grains.GetSessionGrain(id, sessionId).Receive(TestData.Frame(salt, now));
        return (c, id, salt, sessionId, now);
    }
}
