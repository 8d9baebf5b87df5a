using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Messages;

namespace MtActors.Grains.Tests;

[Collection(PostgresCollection.Name)]
public sealed class SessionGrainTests(PostgresFixture pg)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // SessionKeys builds references from a remembered grain type after the first: they must be the usual ones.
    [Fact]
    public async Task Session_and_key_references_equal_the_factory_s_own_and_reach_the_grain()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, _) = await TestData.RegisterKeyAsync(c.Grains);
        for (int i = 0; i < 3; i++) // the first call may take the slow path; later ones the remembered shape
        {
            long sessionId = TestData.NewSessionId();
            ISessionGrain ours = c.Grains.GetSessionGrain(authKeyId, sessionId);
            ISessionGrain theirs = c.Grains.GetGrain<ISessionGrain>(SessionKeys.ToGuid(authKeyId, sessionId));
            Assert.Equal(theirs.GetGrainId(), ours.GetGrainId());
            Assert.Equal(((GrainReference)(object)theirs).InterfaceType, ((GrainReference)(object)ours).InterfaceType);
            Assert.Equal(theirs, ours);
            Assert.Null(await ours.GetInfo()); // a working reference: the session does not exist

            IAuthKeyGrain key = c.Grains.GetAuthKeyGrain(authKeyId);
            Assert.Equal(c.Grains.GetGrain<IAuthKeyGrain>(authKeyId).GetGrainId(), key.GetGrainId());
        }
        Assert.NotEqual(c.Grains.GetSessionGrain(authKeyId, 1).GetGrainId(), c.Grains.GetSessionGrain(authKeyId, 2).GetGrainId());
        Assert.NotEqual(c.Grains.GetAuthKeyGrain(1).GetGrainId(), c.Grains.GetAuthKeyGrain(2).GetGrainId());
        Assert.Equal((authKeyId, 77L), SessionKeys.FromGuid(c.Grains.GetSessionGrain(authKeyId, 77).GetPrimaryKey()));
    }

    [Fact]
    public async Task Session_is_created_on_its_first_message_and_its_state_survives_deactivation()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(c.Grains);
        long sessionId = TestData.NewSessionId();
        ISessionGrain session = c.Grains.GetSessionGrain(authKeyId, sessionId);
        Assert.Null(await session.GetInfo());
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, authKeyId, sessionId));

        long m1 = TestData.ClientMsgId(c.Clock.GetUtcNow());
        ReceiveResult created = await session.Receive(TestData.Frame(salt, m1)).WaitAsync(Bound);
        Assert.Equal(ReceiveStatus.Ok, created.Status);
        Assert.True(created.Created);
        SessionNotice nsc = Assert.Single(created.Notices);
        Assert.Equal(SessionNoticeKind.NewSessionCreated, nsc.Kind);
        Assert.Equal(m1, nsc.RefMsgId);
        Assert.Equal(salt, nsc.ServerSalt);
        // Session existence is durable before the answer: the row is there now.
        Assert.Equal(1, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, authKeyId, sessionId));
        Assert.Contains(sessionId, await c.Grains.GetAuthKeyGrain(authKeyId).GetSessionIds());

        long m2 = m1 + 4;
        Assert.Equal(MessageVerdict.Accepted, (await session.Receive(TestData.Frame(salt, m2))).Messages[0].Verdict);
        await c.Cluster.DeactivateAsync(session).WaitAsync(Bound);

        SessionInfo? info = await session.GetInfo();
        Assert.NotNull(info);
        Assert.Equal(nsc.UniqueId, info.UniqueId);
        Assert.Equal(m1, info.FirstMsgId);
        Assert.Equal(m2, info.LastClientMsgId);
        Assert.Equal(salt, info.CurrentSalt);
        ReceiveResult replay = await session.Receive(TestData.Frame(salt, m1, m2));
        Assert.All(replay.Messages, m => Assert.Equal(MessageVerdict.Duplicate, m.Verdict));
        Assert.False(replay.Created);
    }

    [Fact]
    public async Task Destroy_session_answers_ok_then_none_deletes_the_row_and_the_next_message_starts_a_new_session()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(c.Grains);
        long a = TestData.NewSessionId(), b = TestData.NewSessionId();
        long now = TestData.ClientMsgId(c.Clock.GetUtcNow());
        await c.Grains.GetSessionGrain(authKeyId, a).Receive(TestData.Frame(salt, now));
        ReceiveResult first = await c.Grains.GetSessionGrain(authKeyId, b).Receive(TestData.Frame(salt, now));
        Assert.Equal(1, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, authKeyId, b));

        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GrainMetrics.MeterName && instrument.Name == "mtactors.destroy_session") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            // only this grain API's answers (source mtproto): the HTTP API's tests may run meanwhile
            string? result = null, source = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "result") result = (string)tag.Value!;
                if (tag.Key == "source") source = (string)tag.Value!;
            }
            if (source == "mtproto" && result is not null) outcomes.Enqueue(result);
        });
        listener.Start();

        DestroySessionResult ok = await c.Grains.GetSessionGrain(authKeyId, a).DestroySession(b).WaitAsync(Bound);
        Assert.Equal(new DestroySessionResult(b, DestroySessionOutcome.Ok), ok);
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, authKeyId, b));
        Assert.Equal(0, await Sql.CountAsync(c.ConnectionString, "SELECT count(*) FROM grain_state WHERE grainidn0 = @k AND grainidn1 = @s",
            ("k", authKeyId), ("s", b))); // no tombstone of any kind
        Assert.DoesNotContain(b, await c.Grains.GetAuthKeyGrain(authKeyId).GetSessionIds());
        Assert.Null(await c.Grains.GetSessionGrain(authKeyId, b).GetInfo());

        DestroySessionResult none = await c.Grains.GetSessionGrain(authKeyId, a).DestroySession(b);
        Assert.Equal(new DestroySessionResult(b, DestroySessionOutcome.None), none);
        Assert.Equal(["destroy_session_ok", "destroy_session_none"], outcomes); // the mtactors.destroy_session counter of Meter("MtActors")

        // The next message for b starts a new session: new unique_id, new_session_created again.
        ReceiveResult again = await c.Grains.GetSessionGrain(authKeyId, b).Receive(TestData.Frame(salt, now + 4));
        Assert.True(again.Created);
        SessionNotice nsc = Assert.Single(again.Notices);
        Assert.NotEqual(first.Notices[0].UniqueId, nsc.UniqueId);
        Assert.Equal(1, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, authKeyId, b));
        // Session a was never touched.
        Assert.NotNull(await c.Grains.GetSessionGrain(authKeyId, a).GetInfo());
    }

    [Fact]
    public async Task Destroy_session_for_itself_answers_none_and_keeps_the_session()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(c.Grains);
        long a = TestData.NewSessionId();
        ISessionGrain session = c.Grains.GetSessionGrain(authKeyId, a);
        ReceiveResult created = await session.Receive(TestData.Frame(salt, TestData.ClientMsgId(c.Clock.GetUtcNow())));

        Assert.Equal(DestroySessionOutcome.None, (await session.DestroySession(a)).Outcome);
        Assert.Equal(created.Notices[0].UniqueId, (await session.GetInfo())?.UniqueId);
        Assert.Equal(1, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, authKeyId, a));
    }

    [Fact]
    public async Task Concurrent_destroy_session_calls_for_one_session_give_exactly_one_ok()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(c.Grains);
        long target = TestData.NewSessionId();
        long[] callers = [.. Enumerable.Range(0, 6).Select(_ => TestData.NewSessionId())];
        long now = TestData.ClientMsgId(c.Clock.GetUtcNow());
        await c.Grains.GetSessionGrain(authKeyId, target).Receive(TestData.Frame(salt, now));

        for (int round = 0; round < 3; round++)
        {
            var results = await Task.WhenAll(callers.Select(s => c.Grains.GetSessionGrain(authKeyId, s).DestroySession(target))).WaitAsync(Bound);
            Assert.Equal(round == 0 ? 1 : 0, results.Count(r => r.Outcome == DestroySessionOutcome.Ok));
            Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, authKeyId, target));
        }
    }

    [Fact]
    public async Task Two_sessions_destroying_each_other_at_once_do_not_deadlock()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(c.Grains);
        long a = TestData.NewSessionId(), b = TestData.NewSessionId();
        long now = TestData.ClientMsgId(c.Clock.GetUtcNow());
        await c.Grains.GetSessionGrain(authKeyId, a).Receive(TestData.Frame(salt, now));
        await c.Grains.GetSessionGrain(authKeyId, b).Receive(TestData.Frame(salt, now));

        var results = await Task.WhenAll(
            c.Grains.GetSessionGrain(authKeyId, a).DestroySession(b),
            c.Grains.GetSessionGrain(authKeyId, b).DestroySession(a)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(results, r => Assert.Equal(DestroySessionOutcome.Ok, r.Outcome));
        Assert.Empty(await c.Grains.GetAuthKeyGrain(authKeyId).GetSessionIds());
    }

    [Fact]
    public async Task A_session_of_another_auth_key_cannot_be_reached()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (keyX, saltX) = await TestData.RegisterKeyAsync(c.Grains);
        var (keyY, saltY) = await TestData.RegisterKeyAsync(c.Grains);
        long sessionOfX = TestData.NewSessionId(), sharedId = TestData.NewSessionId();
        long now = TestData.ClientMsgId(c.Clock.GetUtcNow());
        await c.Grains.GetSessionGrain(keyX, sessionOfX).Receive(TestData.Frame(saltX, now));
        ReceiveResult ofY = await c.Grains.GetSessionGrain(keyY, sharedId).Receive(TestData.Frame(saltY, now));

        // X asks to destroy "sharedId": that names X's session sharedId, which does not exist.
        Assert.Equal(DestroySessionOutcome.None, (await c.Grains.GetSessionGrain(keyX, sessionOfX).DestroySession(sharedId)).Outcome);
        Assert.Equal(ofY.Notices[0].UniqueId, (await c.Grains.GetSessionGrain(keyY, sharedId).GetInfo())?.UniqueId);
        Assert.Equal(1, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, keyY, sharedId));
        // X's salt is not Y's salt: Y's session refuses it.
        Assert.NotEqual(saltX, saltY);
        Assert.Equal(ReceiveStatus.BadServerSalt, (await c.Grains.GetSessionGrain(keyY, sharedId).Receive(TestData.Frame(saltX, now + 4))).Status);
        // And destroying all of X leaves Y alone.
        Assert.Equal(DestroyAuthKeyResult.Ok, await c.Grains.GetAuthKeyGrain(keyX).DestroyAuthKey());
        Assert.NotNull(await c.Grains.GetSessionGrain(keyY, sharedId).GetInfo());
    }

    [Fact]
    public async Task Salts_rotate_and_the_previous_salt_is_accepted_only_within_its_grace()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, _) = await TestData.RegisterKeyAsync(c.Grains);
        ISessionGrain session = c.Grains.GetSessionGrain(authKeyId, TestData.NewSessionId());
        FutureSaltsResult future = await session.GetFutureSalts(64);
        Assert.Equal(64, future.Salts.Length);
        Assert.Equal(c.Clock.GetUtcNow().ToUnixTimeSeconds(), future.Now);
        FutureSalt s0 = future.Salts[0], s1 = future.Salts[1], s2 = future.Salts[2];
        Assert.Equal(s0.ValidUntil, s1.ValidSince);

        var msg = 0;
        Task<ReceiveResult> Send(long salt) => session.Receive(TestData.Frame(salt, TestData.ClientMsgId(c.Clock.GetUtcNow(), msg++)));

        Assert.Equal(ReceiveStatus.Ok, (await Send(s0.Salt)).Status);
        Assert.Equal(ReceiveStatus.BadServerSalt, (await Send(s1.Salt)).Status); // not valid yet

        c.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(s1.ValidSince + 1)); // rotation
        ReceiveResult rotated = await Send(s1.Salt);
        Assert.Equal(ReceiveStatus.Ok, rotated.Status);
        Assert.Equal(s1.Salt, rotated.ServerSalt);
        Assert.Equal(ReceiveStatus.Ok, (await Send(s0.Salt)).Status); // previous salt, within its grace

        c.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(s0.ValidUntil + 1800 - 1));
        Assert.Equal(ReceiveStatus.Ok, (await Send(s0.Salt)).Status); // last second of grace

        c.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(s2.ValidSince + 1));
        ReceiveResult stale = await Send(s0.Salt);
        Assert.Equal(ReceiveStatus.BadServerSalt, stale.Status);
        SessionNotice bad = Assert.Single(stale.Notices);
        Assert.Equal((SessionNoticeKind.BadServerSalt, 48, s2.Salt), (bad.Kind, bad.Code, bad.ServerSalt));
        Assert.Equal(ReceiveStatus.Ok, (await Send(s1.Salt)).Status);
        // Salts are the key's: after a deactivation the same salts hold.
        await c.Cluster.DeactivateAsync(session);
        Assert.Equal(s2.Salt, (await session.GetFutureSalts(1)).Salts[0].Salt);
    }

    [Fact]
    public async Task Server_msg_ids_strictly_increase_across_deactivation_even_when_the_clock_goes_back()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(c.Grains);
        ISessionGrain session = c.Grains.GetSessionGrain(authKeyId, TestData.NewSessionId());
        Assert.Empty(await session.AllocateOutbound(TestData.Kinds(OutboundKind.Response))); // no session, no ids
        ReceiveResult created = await session.Receive(TestData.Frame(salt, TestData.ClientMsgId(c.Clock.GetUtcNow())));
        var ids = new List<long> { created.Notices[0].Header.MsgId };

        for (int round = 0; round < 3; round++)
        {
            var headers = await session.AllocateOutbound(TestData.Kinds(
                OutboundKind.Response | OutboundKind.ContentRelated, OutboundKind.Notice, OutboundKind.Response));
            Assert.Equal([1L, 3L, 1L], headers.Select(h => h.MsgId & 3));
            ids.AddRange(headers.Select(h => h.MsgId));
            await c.Cluster.DeactivateAsync(session).WaitAsync(Bound);
        }
        // A clock behind everything sent so far: the floor still wins.
        var backwards = new FakeClockScope(c.Clock, TimeSpan.FromSeconds(-20));
        try
        {
            ids.AddRange((await session.AllocateOutbound(TestData.Kinds(OutboundKind.Response))).Select(h => h.MsgId));
        }
        finally
        {
            backwards.Dispose();
        }
        Assert.All(ids.Zip(ids.Skip(1)), p => Assert.True(p.Second > p.First, $"{p.Second:x} <= {p.First:x}"));
        Assert.True(MsgIds.Seconds(ids[^1]) >= MsgIds.Seconds(ids[0]));
    }

    [Fact]
    public async Task Messages_for_an_unknown_auth_key_are_refused_and_create_nothing()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (_, unknownKey) = TestData.NewKey();
        long sessionId = TestData.NewSessionId();
        ReceiveResult r = await c.Grains.GetSessionGrain(unknownKey, sessionId).Receive(TestData.Frame(1, TestData.ClientMsgId(c.Clock.GetUtcNow())));
        Assert.Equal(ReceiveStatus.AuthKeyUnknown, r.Status);
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, unknownKey, sessionId));
        Assert.Null(await c.Grains.GetAuthKeyGrain(unknownKey).Get());
    }
}

/// <summary>Moves a fake clock by an offset and back (the shared clock must never end up behind).</summary>
internal sealed class FakeClockScope : IDisposable
{
    private readonly TestClock _clock;
    private readonly DateTimeOffset _restore;

    public FakeClockScope(TestClock clock, TimeSpan offset)
    {
        _clock = clock;
        _restore = clock.GetUtcNow();
        clock.SetUtcNow(_restore + offset);
    }

    public void Dispose() => _clock.SetUtcNow(_restore);
}
