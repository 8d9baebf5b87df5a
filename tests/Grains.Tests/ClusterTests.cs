using Microsoft.Extensions.DependencyInjection;
using MtActors.Grains.Api;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Schema;
using Orleans.Storage;
using Orleans.TestingHost;

namespace MtActors.Grains.Tests;

/// <summary>Restarts, several silos, and a stale activation: each test runs its own cluster(s).</summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterTests(PostgresFixture pg)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task State_survives_a_restart_of_the_whole_cluster()
    {
        string db = await pg.CreateMigratedDatabaseAsync("restart");
        var clock = new TestClock(DateTimeOffset.UtcNow);
        long authKeyId, sessionId = TestData.NewSessionId(), salt, uniqueId, m1;
        long lastServerId;
        await using (InProcessTestCluster first = await MtCluster.StartAsync(db, "restart", clock))
        {
            (authKeyId, salt) = await TestData.RegisterKeyAsync(first.Client);
            m1 = TestData.ClientMsgId(clock.GetUtcNow());
            ReceiveResult created = await first.Client.GetSessionGrain(authKeyId, sessionId).Receive(TestData.Frame(salt, m1));
            uniqueId = created.Notices[0].UniqueId;
            lastServerId = (await first.Client.GetSessionGrain(authKeyId, sessionId).AllocateOutbound(TestData.Kinds(OutboundKind.Response)))[0].MsgId;
            await first.StopAllSilosAsync().WaitAsync(Bound);
        }

        await using InProcessTestCluster second = await MtCluster.StartAsync(db, "restart", clock);
        ISessionGrain session = second.Client.GetSessionGrain(authKeyId, sessionId);
        SessionInfo? info = await session.GetInfo();
        Assert.NotNull(info);
        Assert.Equal(uniqueId, info.UniqueId);
        Assert.Equal(m1, info.LastClientMsgId);
        Assert.Equal(MessageVerdict.Duplicate, (await session.Receive(TestData.Frame(salt, m1))).Messages[0].Verdict);
        Assert.True((await session.AllocateOutbound(TestData.Kinds(OutboundKind.Response)))[0].MsgId > lastServerId);
        Assert.NotNull(await second.Client.GetAuthKeyGrain(authKeyId).Get());
    }

    [Fact]
    public async Task Two_silos_serve_the_same_grains_and_a_killed_silo_loses_nothing()
    {
        string db = await pg.CreateMigratedDatabaseAsync("twosilos");
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using InProcessTestCluster cluster = await MtCluster.StartAsync(db, "twosilos", clock, silos: 2);
        Assert.Equal(2, cluster.GetActiveSilos().Count());
        IGrainFactory[] viaSilo = [.. cluster.Silos.Select(s => cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<IGrainFactory>())];

        var (authKeyId, salt) = await TestData.RegisterKeyAsync(viaSilo[0]);
        long now = TestData.ClientMsgId(clock.GetUtcNow());
        var sessions = new List<(long Id, long Unique, long MsgId, long ServerId)>();
        for (int i = 0; i < 12; i++)
        {
            long id = TestData.NewSessionId();
            long msgId = now + 4 * i;
            ReceiveResult r = await viaSilo[i % 2].GetSessionGrain(authKeyId, id).Receive(TestData.Frame(salt, msgId)).WaitAsync(Bound);
            sessions.Add((id, r.Notices[0].UniqueId, msgId, r.Notices[0].Header.MsgId));
        }
        // Reachable from both silos, one activation each: both see the same unique_id.
        foreach (var s in sessions)
        {
            Assert.Equal(s.Unique, (await viaSilo[0].GetSessionGrain(authKeyId, s.Id).GetInfo())?.UniqueId);
            Assert.Equal(s.Unique, (await viaSilo[1].GetSessionGrain(authKeyId, s.Id).GetInfo())?.UniqueId);
        }

        // Kill the second silo (no clean deactivation): its sessions come back on the first one.
        await cluster.KillSiloAsync(cluster.Silos[1]).WaitAsync(Bound);
        IGrainFactory survivor = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<IGrainFactory>();
        foreach (var s in sessions)
        {
            ISessionGrain session = survivor.GetSessionGrain(authKeyId, s.Id);
            SessionInfo? info = await RetryAsync(() => session.GetInfo());
            Assert.Equal(s.Unique, info?.UniqueId);
            // A replay of the frame the session accepted before the kill is never processed again.
            MessageVerdict replay = (await session.Receive(TestData.Frame(salt, s.MsgId))).Messages[0].Verdict;
            Assert.Contains(replay, (MessageVerdict[])[MessageVerdict.Duplicate, MessageVerdict.MsgIdTooOldToTell]);
            Assert.True((await session.AllocateOutbound(TestData.Kinds(OutboundKind.Response)))[0].MsgId > s.ServerId);
        }
    }

    [Fact]
    public async Task A_stale_activation_never_answers_once_another_one_wrote_the_row()
    {
        string db = await pg.CreateMigratedDatabaseAsync("fencing");
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using InProcessTestCluster cluster = await MtCluster.StartAsync(db, "fencing", clock);
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(cluster.Client);
        long sessionId = TestData.NewSessionId();
        ISessionGrain session = cluster.Client.GetSessionGrain(authKeyId, sessionId);
        await session.Receive(TestData.Frame(salt, TestData.ClientMsgId(clock.GetUtcNow())));

        // Another activation (split brain) writes the row: its version moves on.
        await Sql.ExecuteAsync(db, "UPDATE grain_state SET version = version + 1 WHERE graintypestring = 'session' AND grainidn0 = @k AND grainidn1 = @s",
            ("k", authKeyId), ("s", sessionId));
        // This activation must write before it may answer (beyond its reservation): the write is refused, no answer.
        clock.Advance(TimeSpan.FromSeconds(10));
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => session.Receive(TestData.Frame(salt, TestData.ClientMsgId(clock.GetUtcNow()))));
        Assert.IsType<InconsistentStateException>(refused.InnerException);
        // It deactivated itself; the next activation reads the row again and serves.
        ReceiveResult next = await RetryAsync(() => session.Receive(TestData.Frame(salt, TestData.ClientMsgId(clock.GetUtcNow(), 1))));
        Assert.Equal(ReceiveStatus.Ok, next.Status);
        Assert.False(next.Created);
    }

    [Fact]
    public async Task A_session_whose_key_could_not_confirm_it_asks_again_before_it_answers_anything()
    {
        string db = await pg.CreateMigratedDatabaseAsync("unconfirmed");
        var clock = new TestClock(DateTimeOffset.UtcNow);
        var failConfirmation = new FailNextConfirmation();
        int executions = 0;
        await using InProcessTestCluster cluster = await MtCluster.StartAsync(db, "unconfirmed", clock, configure: silo =>
        {
            silo.AddOutgoingGrainCallFilter(failConfirmation);
            silo.Services.AddMtProtoApiHandler(Sessions.TestApi.Count, (_, _) =>
            {
                Interlocked.Increment(ref executions);
                return ValueTask.FromResult(ApiResult.Ok(true));
            });
        });
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(cluster.Client);
        long sessionId = TestData.NewSessionId();
        ISessionGrain session = cluster.Client.GetSessionGrain(authKeyId, sessionId);

        // The activation keeps the key's salt material; then the key is destroyed (no session row to find yet).
        Assert.NotEmpty((await session.GetFutureSalts(1)).Salts);
        Assert.Equal(DestroyAuthKeyResult.Ok, await cluster.Client.GetAuthKeyGrain(authKeyId).DestroyAuthKey());

        // The first frame writes the row, but asking the key fails: the frame fails, nothing is answered.
        failConfirmation.Armed = true;
        await Assert.ThrowsAnyAsync<Exception>(() => session.ProcessFrame(new IncomingFrame(salt, TestData.ClientMsgId(clock.GetUtcNow()), 1, new Ping(0).ToBytes(), 1)));
        Assert.Equal(1, await Sql.SessionRowsAsync(db, "unconfirmed", authKeyId, sessionId));

        // The next frame (a query) asks the key again before anything runs: refused, the row is deleted, the query
        // never runs, no answer.
        IncomingFrame query = new(salt, TestData.ClientMsgId(clock.GetUtcNow(), 1), 3,
            Sessions.SessionClient.Query(Sessions.TestApi.Count, "x"u8), 1);
        FrameResult next = await session.ProcessFrame(query);
        Assert.Equal(FrameDisposition.AuthKeyUnknown, next.Disposition);
        Assert.Empty(next.Messages);
        Assert.Equal(0, executions);
        Assert.Equal(0, await Sql.SessionRowsAsync(db, "unconfirmed", authKeyId, sessionId));
    }

    /// <summary>Fails the next <c>OpenSession(created: true)</c> a session grain sends, once armed.</summary>
    private sealed class FailNextConfirmation : IOutgoingGrainCallFilter
    {
        public volatile bool Armed;

        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name == nameof(IAuthKeyGrain.OpenSession) && context.Request.GetArgument(1) is true && Armed)
            {
                Armed = false;
                throw new TimeoutException("test: the auth key grain could not be reached");
            }
            return context.Invoke();
        }
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (true)
        {
            try
            {
                return await call().WaitAsync(TimeSpan.FromSeconds(15));
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
