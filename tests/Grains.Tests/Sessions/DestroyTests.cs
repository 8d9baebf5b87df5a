using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Schema;

namespace MtActors.Grains.Tests.Sessions;

/// <summary>destroy_session and destroy_auth_key through ProcessFrame (answers bare by default).</summary>
[Collection(PostgresCollection.Name)]
public sealed class DestroyTests(PostgresFixture pg)
{
    private Task<SharedCluster> ClusterAsync() => TestApi.ClusterAsync(pg);

    /// <summary>A key with a first session (a, answered once) and a second session of it (b) not created yet.</summary>
    private async Task<(SharedCluster C, SessionClient A, SessionClient B)> KeyWithSessionAsync()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient a = await SessionClient.CreateAsync(c);
        await a.SendAsync(new Ping(1));
        return (c, a, a.OtherSession());
    }

    /// <summary>Rows of any kind (key, sessions) stored under <paramref name="authKeyId"/>.</summary>
    private static Task<long> RowsOfKeyAsync(SharedCluster c, long authKeyId) => Sql.CountAsync(c.ConnectionString,
        "SELECT count(*) FROM grain_state WHERE serviceid = @s AND grainidn0 = @k", ("s", c.ServiceId), ("k", authKeyId));

    [Fact]
    public async Task Destroy_session_of_another_session_answers_ok_then_none_and_of_itself_none_keeping_it()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient a = await SessionClient.CreateAsync(c);
        SessionClient b = a.OtherSession();
        await a.SendAsync(new Ping(1));
        await b.SendAsync(new Ping(2));
        Assert.Equal(1, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, b.AuthKeyId, b.SessionId));

        foreach (bool odd in new[] { true, false }) // Telethon sends it odd, Android even
        {
            long id = a.NextMsgId();
            Reply reply = await a.SendAsync(new DestroySession(b.SessionId).ToBytes(), odd, id);
            Received answer = Assert.Single(reply.Messages);
            Assert.False(answer.InContainer);
            Assert.Equal(0, answer.SeqNo & 1); // bare, not content-related
            if (odd) Assert.Equal(new DestroySessionOk(b.SessionId), answer.Object);
            else Assert.Equal(new DestroySessionNone(b.SessionId), answer.Object);
        }
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, b.AuthKeyId, b.SessionId));
        Assert.DoesNotContain(b.SessionId, await c.Grains.GetAuthKeyGrain(a.AuthKeyId).GetSessionIds());

        // A never-seen session id: none.
        long random = TestData.NewSessionId();
        Assert.Equal(new DestroySessionNone(random), (await a.SendAsync(new DestroySession(random))).Single<DestroySessionNone>());

        // The current session: none, and the session lives on (same unique_id, no new_session_created).
        SessionInfo? before = await a.Grain.GetInfo();
        Assert.Equal(new DestroySessionNone(a.SessionId), (await a.SendAsync(new DestroySession(a.SessionId))).Single<DestroySessionNone>());
        Reply after = await a.SendAsync(new Ping(3));
        Assert.True(after.None<NewSessionCreated>());
        Assert.Equal(before!.UniqueId, (await a.Grain.GetInfo())!.UniqueId);

        // b's next message starts a new session.
        Assert.Single((await b.SendAsync(new Ping(4))).All<NewSessionCreated>());
    }

    [Fact]
    public async Task Two_sessions_destroying_each_other_at_once_do_not_deadlock()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient a = await SessionClient.CreateAsync(c);
        SessionClient b = a.OtherSession();
        await a.SendAsync(new Ping(1));
        await b.SendAsync(new Ping(2));
        Reply[] replies = await Task.WhenAll(a.SendAsync(new DestroySession(b.SessionId)), b.SendAsync(new DestroySession(a.SessionId)));
        // Both answered (within the bound). Whichever frame ran second may find its own session already destroyed and
        // re-created (new_session_created); each still gets exactly one destroy_session answer.
        Assert.All(replies, r => Assert.Single(r.Messages, m => m.Object is DestroySessionOk or DestroySessionNone));
        Assert.Contains(replies, r => r.All<DestroySessionOk>().Any());
    }

    [Fact]
    public async Task Destroy_auth_key_answers_ok_destroys_every_session_and_later_frames_get_AuthKeyUnknown()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient a = await SessionClient.CreateAsync(c);
        SessionClient b = a.OtherSession();
        await a.SendAsync(new Ping(1));
        await b.SendAsync(new Ping(2));

        Reply reply = await a.SendAsync(DestroyAuthKey.Instance);
        Assert.Equal(FrameDisposition.CloseAfterSend, reply.Result.Disposition);
        Received answer = Assert.Single(reply.Messages);
        Assert.IsType<DestroyAuthKeyOk>(answer.Object);
        Assert.Equal(0, answer.SeqNo & 1);

        Assert.Null(await c.Grains.GetAuthKeyGrain(a.AuthKeyId).Get());
        Assert.Equal(0, await Sql.AuthKeyRowsAsync(c.ConnectionString, c.ServiceId, a.AuthKeyId));
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, a.AuthKeyId, a.SessionId));
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, b.AuthKeyId, b.SessionId));
        foreach (SessionClient s in new[] { a, b, a.OtherSession() })
        {
            Reply later = await s.SendAsync(new Ping(3));
            Assert.Equal(FrameDisposition.AuthKeyUnknown, later.Result.Disposition);
            Assert.Empty(later.Messages);
        }
    }

    [Fact]
    public async Task A_new_session_is_stored_and_confirmed_before_the_query_of_its_first_frame_runs()
    {
        var (c, a, b) = await KeyWithSessionAsync();
        string key = TestApi.NewKey();
        Task<Reply> pending = b.SendAsync(TestApi.Call(TestApi.Gate, key), contentRelated: true);
        await TestApi.WaitStartedAsync(key);

        // The query is running: b's row is already there, so destroy_auth_key's listing finds b and deletes it.
        Assert.Equal(1, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, b.AuthKeyId, b.SessionId));
        Assert.Equal(DestroyAuthKeyResult.Ok, await c.Grains.GetAuthKeyGrain(a.AuthKeyId).DestroyAuthKey().WaitAsync(SessionClient.Bound));
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, b.AuthKeyId, b.SessionId));

        TestApi.Release(key);
        await pending.WaitAsync(SessionClient.Bound);
        Assert.Equal(0, await RowsOfKeyAsync(c, a.AuthKeyId));
        Assert.Null(await b.Grain.GetInfo());
    }

    [Fact]
    public async Task A_session_whose_first_row_is_written_after_destroy_auth_key_listed_the_sessions_deletes_it_and_answers_nothing()
    {
        var (c, a, b) = await KeyWithSessionAsync();
        // b's activation fetches the key's salt material (and keeps it) without creating the session: no row.
        Assert.NotEmpty((await b.Grain.GetFutureSalts(1)).Salts);

        // destroy_auth_key meanwhile: b has no row, so the key's listing cannot find it.
        Assert.Equal(DestroyAuthKeyResult.Ok, await c.Grains.GetAuthKeyGrain(a.AuthKeyId).DestroyAuthKey().WaitAsync(SessionClient.Bound));

        // b's first frame passes the salt check on the kept material and creates b: its row is written, the key
        // refuses to confirm it, b deletes it again. No answer, nothing left of the key.
        Reply reply = await b.SendAsync(TestApi.Call(TestApi.Gate, TestApi.NewKey()), contentRelated: true);
        Assert.Equal(FrameDisposition.AuthKeyUnknown, reply.Result.Disposition);
        Assert.Empty(reply.Messages);
        Assert.Equal(0, await RowsOfKeyAsync(c, a.AuthKeyId));
        Assert.Null(await b.Grain.GetInfo());
    }

    [Fact]
    public async Task Destroy_auth_key_racing_session_creation_leaves_no_session_of_the_key()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient first = await SessionClient.CreateAsync(c);
        await first.SendAsync(new Ping(1));
        SessionClient[] racers = [.. Enumerable.Range(0, 40).Select(_ => first.OtherSession())];

        // Creations before, during and after the destruction; each either answered (then destroyed) or refused.
        Task<Reply>[] creations = [.. racers.Select(async (s, i) =>
        {
            await Task.Delay(i % 10);
            return await s.SendAsync(new Ping(i));
        })];
        await Task.Delay(3);
        DestroyAuthKeyResult result = await c.Grains.GetAuthKeyGrain(first.AuthKeyId).DestroyAuthKey().WaitAsync(SessionClient.Bound);
        Reply[] replies = await Task.WhenAll(creations).WaitAsync(SessionClient.Bound);

        Assert.Equal(DestroyAuthKeyResult.Ok, result);
        Assert.All(replies, r => Assert.True(
            r.Result.Disposition == FrameDisposition.AuthKeyUnknown ? r.Messages.Count == 0 : r.All<NewSessionCreated>().Count() == 1,
            $"{r.Result.Disposition}: {r.Messages.Count} messages"));
        Assert.Equal(0, await RowsOfKeyAsync(c, first.AuthKeyId));
        Assert.Empty(await c.Grains.GetAuthKeyGrain(first.AuthKeyId).GetSessionIds());
        foreach (SessionClient s in racers) Assert.Null(await s.Grain.GetInfo());
    }
}
