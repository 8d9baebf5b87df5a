using MtActors.Grains.Sessions;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;
using static MtActors.Grains.Tests.Sessions.SessionClient;

namespace MtActors.Grains.Tests.Sessions;

/// <summary>ProcessFrame: session creation, salts, ping, containers, gzip, wrappers, future salts.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SessionFrameTests(PostgresFixture pg)
{
    private Task<SharedCluster> ClusterAsync() => TestApi.ClusterAsync(pg);

    [Fact]
    public async Task Wrong_salt_gets_bad_server_salt_with_the_current_salt_and_nothing_is_processed_then_the_retry_succeeds()
    {
        SessionClient client = await SessionClient.CreateAsync(await ClusterAsync());
        long salt = client.Salt;
        string key = TestApi.NewKey();
        long badId = client.NextMsgId();
        Reply bad = await client.SendAsync(TestApi.Call(TestApi.Count, key), contentRelated: true, msgId: badId, seqNo: 1, salt: 0);

        Assert.Equal(FrameDisposition.Continue, bad.Result.Disposition);
        Assert.Equal(salt, bad.Result.Salt);
        Received only = Assert.Single(bad.Messages);
        Assert.False(only.InContainer);
        Assert.Equal(new BadServerSalt(badId, 1, 48, salt), only.Object);
        Assert.Equal(1, only.MsgId & 3); // answers a client message
        Assert.False(TestApi.Executions.ContainsKey(key));
        Assert.Null(await client.Grain.GetInfo()); // a refused message creates no session

        long retryId = client.NextMsgId();
        Reply ok = await client.SendAsync(TestApi.Call(TestApi.Count, key), contentRelated: true, msgId: retryId, seqNo: 3);
        Assert.Equal(retryId, ok.Single<NewSessionCreated>().FirstMsgId);
        Assert.Equal(new[] { ConstructorIds.BoolTrue }, ok.ResultOf(retryId).Chunk(4).Select(c => BitConverter.ToUInt32(c)).ToArray());
        Assert.Equal(1, TestApi.Executions[key]);
    }

    [Fact]
    public async Task New_session_created_is_first_content_related_names_the_lowest_msg_id_and_is_sent_again_for_a_lower_one()
    {
        SessionClient client = await SessionClient.CreateAsync(await ClusterAsync());
        Item ping1 = S(new Ping(1)), ping2 = S(new Ping(2));
        Reply first = await client.SendContainerAsync(ping1, ping2);

        // One container: new_session_created, then the two pongs, in order.
        OutgoingMessage frame = Assert.Single(first.Result.Messages);
        Assert.Equal(3, first.Messages.Count);
        var nsc = Assert.IsType<NewSessionCreated>(first.Messages[0].Object);
        Assert.Equal(ping1.MsgId, nsc.FirstMsgId); // the lowest accepted id, not the container's
        Assert.Equal(client.Salt, nsc.ServerSalt);
        Assert.Equal(1, first.Messages[0].SeqNo & 1);
        Assert.Equal(new Pong(ping1.MsgId, 1), first.Messages[1].Object);
        Assert.Equal(new Pong(ping2.MsgId, 2), first.Messages[2].Object);
        Assert.True(first.Messages[0].MsgId < first.Messages[1].MsgId && first.Messages[1].MsgId < first.Messages[2].MsgId);
        Assert.True(frame.SeqNo >= first.Messages.Max(m => m.SeqNo));
        SessionInfo? info = await client.Grain.GetInfo();
        Assert.Equal(nsc.UniqueId, info!.UniqueId);

        // A later, higher message: no notification.
        Reply later = await client.SendAsync(new Ping(3));
        Assert.True(later.None<NewSessionCreated>());

        // A message with an even lower msg_id (still valid): announced again, same unique_id.
        long lower = ping1.MsgId - 400;
        Reply again = await client.SendAsync(new Ping(4).ToBytes(), false, msgId: lower, seqNo: 0);
        var nsc2 = again.Single<NewSessionCreated>();
        Assert.Equal(lower, nsc2.FirstMsgId);
        Assert.Equal(nsc.UniqueId, nsc2.UniqueId);
    }

    [Fact]
    public async Task A_stored_session_woken_by_a_replayed_query_runs_nothing_again_and_announces_no_new_session()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await SessionClient.CreateAsync(c);
        string key = TestApi.NewKey();
        long queryId = client.NextMsgId();
        Reply first = await client.SendAsync(TestApi.Call(TestApi.Count, key), contentRelated: true, msgId: queryId);
        long uniqueId = first.Single<NewSessionCreated>().UniqueId;
        long lastServerId = first.MsgIds.Max();
        Assert.Equal(1, TestApi.Executions[key]);
        await client.SendAsync(new MsgsAck(first.MsgIds)); // nothing left to re-send: an announcement below can only be new

        // A new activation is not read until a frame needs it: the replayed query would create a session on an empty
        // core, so its first insert meets the stored row, which is then read and the frame served on it.
        await c.Cluster.DeactivateAsync(client.Grain).WaitAsync(Bound);
        Reply replay = await client.SendAsync(TestApi.Call(TestApi.Count, key), contentRelated: true, msgId: queryId, seqNo: 1);
        Assert.True(replay.None<NewSessionCreated>());
        Assert.Equal(1, TestApi.Executions[key]);
        Reply ping = await client.SendAsync(new Ping(7));
        Assert.True(ping.None<NewSessionCreated>());
        Assert.Single(ping.All<Pong>(), p => p.PingId == 7);
        Assert.All(ping.MsgIds, id => Assert.True(id > lastServerId, $"{id:x} <= {lastServerId:x}"));
        lastServerId = ping.MsgIds.Max();

        // A frame that creates nothing on an empty core (a wrong salt) is answered from the stored row as well.
        await c.Cluster.DeactivateAsync(client.Grain).WaitAsync(Bound);
        Reply bad = await client.SendAsync(new Ping(8).ToBytes(), false, salt: 0);
        Received badSalt = Assert.Single(bad.Messages);
        Assert.IsType<BadServerSalt>(badSalt.Object);
        Assert.True(badSalt.MsgId > lastServerId, $"{badSalt.MsgId:x} <= {lastServerId:x}");
        lastServerId = badSalt.MsgId;

        // A frame whose seq_no says the client has sent many messages in this session: read first, then served.
        await c.Cluster.DeactivateAsync(client.Grain).WaitAsync(Bound);
        Assert.True(41 > SessionGrain.NewSessionSeqNoLimit);
        Reply resumed = await client.SendAsync(new Ping(9).ToBytes(), true, seqNo: 41);
        Assert.True(resumed.None<NewSessionCreated>());
        Assert.Single(resumed.All<Pong>(), p => p.PingId == 9);
        Assert.All(resumed.MsgIds, id => Assert.True(id > lastServerId, $"{id:x} <= {lastServerId:x}"));
        Assert.Equal(uniqueId, (await client.Grain.GetInfo())!.UniqueId);
        Assert.Equal(1, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, client.AuthKeyId, client.SessionId));
    }

    [Fact]
    public async Task ProcessFrames_answers_buffered_frames_in_order_as_single_calls_would_and_stops_after_an_api_call()
    {
        SessionClient client = await SessionClient.CreateAsync(await ClusterAsync());
        string key = TestApi.NewKey();
        IncomingFrame Frame(byte[] body, bool contentRelated, long? salt = null) =>
            new(salt ?? client.Salt, client.NextMsgId(), client.NextSeqNo(contentRelated), body, client.ConnectionId);
        IncomingFrame[] frames =
        [
            Frame(new Ping(1).ToBytes(), false),
            Frame(new Ping(2).ToBytes(), false),
            Frame(TestApi.Call(TestApi.Count, key), true),
            Frame(new Ping(3).ToBytes(), false),
        ];

        FrameBatchResult first = await client.Grain.ProcessFrames([.. frames]).WaitAsync(Bound);
        Assert.Null(first.Error);
        Assert.Equal(3, first.Results.Length); // stopped after the frame that ran an API handler
        var replies = first.Results.Select(r => new Reply(r)).ToList();
        Assert.Equal(frames[0].MsgId, replies[0].Single<NewSessionCreated>().FirstMsgId);
        Assert.Equal(new Pong(frames[0].MsgId, 1), replies[0].Single<Pong>());
        Assert.Equal(new Pong(frames[1].MsgId, 2), Assert.Single(replies[1].Messages).Object);
        Assert.Equal(new[] { ConstructorIds.BoolTrue }, replies[2].ResultOf(frames[2].MsgId).Chunk(4).Select(c => BitConverter.ToUInt32(c)).ToArray());
        Assert.Equal(1, TestApi.Executions[key]);

        // The rest in the next call; a refused frame in a batch does not stop the frames after it.
        long wrongSaltId = client.NextMsgId();
        FrameBatchResult second = await client.Grain.ProcessFrames(
        [
            frames[3],
            new IncomingFrame(0, wrongSaltId, client.NextSeqNo(false), new Ping(4).ToBytes(), client.ConnectionId),
            Frame(new Ping(5).ToBytes(), false),
        ]).WaitAsync(Bound);
        Assert.Null(second.Error);
        Assert.Equal(3, second.Results.Length);
        replies.AddRange(second.Results.Select(r => new Reply(r)));
        Assert.Equal(new Pong(frames[3].MsgId, 3), Assert.Single(replies[3].Messages).Object);
        Assert.Equal(wrongSaltId, replies[4].Single<BadServerSalt>().BadMsgId);
        Assert.Equal(5, replies[5].Single<Pong>().PingId);

        // Server msg_ids rise in the order of the frames, as with one call per frame.
        long[] ids = [.. replies.SelectMany(r => r.Result.Messages).Select(m => m.MsgId)];
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Fact]
    public async Task Ping_is_answered_with_a_bare_pong_and_ping_delay_disconnect_also_arms_the_close_timer()
    {
        SessionClient client = await SessionClient.CreateAsync(await ClusterAsync());
        await client.SendAsync(new Ping(0));
        long pingId = client.NextMsgId();
        Reply pong = await client.SendAsync(new Ping(77).ToBytes(), contentRelated: true, msgId: pingId); // either parity (Telethon: odd)
        Received m = Assert.Single(pong.Messages);
        Assert.False(m.InContainer);
        Assert.Equal(new Pong(pingId, 77), m.Object);
        Assert.Equal(0, m.SeqNo & 1);
        Assert.Equal(0, pong.Result.DisconnectDelaySeconds);

        long pddId = client.NextMsgId();
        Reply pdd = await client.SendAsync(new PingDelayDisconnect(78, 75).ToBytes(), false, msgId: pddId);
        Assert.Equal(new Pong(pddId, 78), pdd.Single<Pong>());
        Assert.Equal(75, pdd.Result.DisconnectDelaySeconds);
    }

    [Fact]
    public async Task Salts_rotate_every_30_minutes_and_the_previous_salt_has_1800_seconds_of_grace()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await SessionClient.CreateAsync(c);
        await client.SendAsync(new Ping(1));
        long first = client.Salt;
        long periodEnd = (SaltSchedule.PeriodOf(c.Clock.GetUtcNow()) + 1) * SaltSchedule.PeriodSeconds;

        // Next period: the old salt is still accepted, the answers carry the new one.
        c.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(periodEnd + 1));
        Reply graced = await client.SendAsync(new Ping(2));
        Assert.Single(graced.All<Pong>());
        long second = graced.Result.Salt;
        Assert.NotEqual(first, second);

        // 1800 s after the old salt's period ended: refused, with the current salt.
        c.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(periodEnd + SaltSchedule.GraceSeconds + 1));
        Reply refused = await client.SendAsync(new Ping(3));
        BadServerSalt bss = refused.Single<BadServerSalt>();
        Assert.Equal(refused.Result.Salt, bss.NewServerSalt);
        Assert.NotEqual(first, bss.NewServerSalt);
        client.Salt = bss.NewServerSalt;
        Assert.Single((await client.SendAsync(new Ping(4))).All<Pong>());
    }

    [Fact]
    public async Task Get_future_salts_answers_a_bare_future_salts_with_at_least_3_and_at_most_64_salts_that_are_accepted_in_their_time()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await SessionClient.CreateAsync(c);
        foreach (var (num, expected) in new[] { (1, 3), (5, 5), (64, 64), (1000, 64) })
        {
            long reqId = client.NextMsgId();
            Reply reply = await client.SendAsync(new GetFutureSalts(num).ToBytes(), false, msgId: reqId);
            FutureSalts salts = reply.Single<FutureSalts>();
            Assert.DoesNotContain(reply.Messages, m => m.ConstructorId == ConstructorIds.RpcResult); // bare, not in rpc_result
            Assert.Equal(reqId, salts.ReqMsgId);
            int now = (int)c.Clock.GetUtcNow().ToUnixTimeSeconds();
            Assert.Equal(now, salts.Now);
            Assert.Equal(expected, salts.Salts.Length);
            Assert.InRange(now, salts.Salts[0].ValidSince, salts.Salts[0].ValidUntil - 1);
            Assert.Equal(client.Salt, salts.Salts[0].Salt);
            Assert.True(salts.Salts.Count(s => s.ValidSince > now) >= 2); // mtcute re-asks with fewer than 2 future salts
            for (int i = 1; i < salts.Salts.Length; i++) Assert.Equal(salts.Salts[i - 1].ValidUntil, salts.Salts[i].ValidSince);
        }

        // The third salt works once its time has come.
        long id = client.NextMsgId();
        FutureSalts future = (await client.SendAsync(new GetFutureSalts(3).ToBytes(), false, msgId: id)).Single<FutureSalts>();
        c.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(future.Salts[2].ValidSince + 1));
        client.Salt = future.Salts[2].Salt;
        Reply ok = await client.SendAsync(new Ping(9));
        Assert.Single(ok.All<Pong>());
        Assert.Equal(future.Salts[2].Salt, ok.Result.Salt);
    }

    [Fact]
    public async Task Containers_are_processed_in_order_and_answers_packed_even_beyond_1024_items()
    {
        SessionClient client = await SessionClient.CreateAsync(await ClusterAsync());
        Item[] pings = [.. Enumerable.Range(0, MsgContainer.MaxItems).Select(i => S(new Ping(i)))];
        Reply reply = await client.SendContainerAsync(pings);

        // new_session_created + 1024 pongs = 1025 messages: two containers, each within the limit.
        Assert.Equal(2, reply.Result.Messages.Length);
        Assert.Equal(MsgContainer.MaxItems + 1, reply.Messages.Count);
        Assert.IsType<NewSessionCreated>(reply.Messages[0].Object);
        for (int i = 0; i < pings.Length; i++) Assert.Equal(new Pong(pings[i].MsgId, i), reply.Messages[i + 1].Object);
        Assert.True(reply.Result.Messages[0].MsgId < reply.Result.Messages[1].MsgId);
        long[] ids = [.. reply.Messages.Select(m => m.MsgId)];
        Assert.Equal(ids.Order(), ids);
    }

    [Fact]
    public async Task Gzip_packed_is_unwrapped_anywhere_at_top_level_in_containers_and_inside_wrappers()
    {
        SessionClient client = await SessionClient.CreateAsync(await ClusterAsync());
        await client.SendAsync(new Ping(0));

        long id1 = client.NextMsgId();
        Reply top = await client.SendAsync(Gzip(new Ping(5).ToBytes()), false, msgId: id1);
        Assert.Equal(new Pong(id1, 5), top.Single<Pong>());

        byte[] echo = Echo(600);
        long id2 = client.NextMsgId();
        Reply query = await client.SendAsync(Gzip(echo), contentRelated: true, msgId: id2); // Telethon: odd gzip'd query
        Assert.Equal(echo, query.ResultOf(id2));

        Item inContainer = Q(Wrap(w => ApiWrappers.WriteInvokeWithLayer(w, 198), Gzip(echo)));
        Reply container = await client.SendContainerAsync(inContainer, S(new MsgsAck([])));
        Assert.Equal(echo, container.ResultOf(inContainer.MsgId));
    }

    [Fact]
    public async Task Every_api_wrapper_is_unwrapped_and_the_query_answered()
    {
        SessionClient client = await SessionClient.CreateAsync(await ClusterAsync());
        await client.SendAsync(new Ping(0));
        byte[] echo = Echo(12);
        var init = new InitConnection(1, "dev", "os", "1.0", "en", "", "en");
        Action<TlWriter>[] wrappers =
        [
            w => ApiWrappers.WriteInvokeWithLayer(w, 227),
            init.WriteHeader,
            ApiWrappers.WriteInvokeWithoutUpdates,
            w => ApiWrappers.WriteInvokeAfterMsg(w, 4),
            w => ApiWrappers.WriteInvokeAfterMsgs(w, [4, 8]),
            w => ApiWrappers.WriteInvokeWithMessagesRange(w, 1, 2),
            w => ApiWrappers.WriteInvokeWithTakeout(w, 99),
        ];
        foreach (Action<TlWriter> wrapper in wrappers)
        {
            long id = client.NextMsgId();
            Reply reply = await client.SendAsync(Wrap(wrapper, echo), contentRelated: true, msgId: id);
            Assert.Equal(echo, reply.ResultOf(id));
        }
        // All of them at once (GramJS's first call: invokeWithLayer(initConnection(help.getConfig))).
        long chained = client.NextMsgId();
        byte[] getConfig = Query(MtProtoTestMethods.HelpGetConfig);
        getConfig = getConfig[..4];
        byte[] body = Wrap(w => ApiWrappers.WriteInvokeWithLayer(w, 198), Wrap(init.WriteHeader, Wrap(ApiWrappers.WriteInvokeWithoutUpdates, getConfig)));
        Reply config = await client.SendAsync(body, contentRelated: true, msgId: chained);
        Assert.Equal(BitConverter.GetBytes(ConstructorIds.BoolTrue), config.ResultOf(chained));
    }

    [Fact]
    public async Task Service_calls_wrapped_in_invoke_with_layer_are_handled_tolerantly()
    {
        SessionClient client = await SessionClient.CreateAsync(await ClusterAsync());
        long id = client.NextMsgId();
        Reply reply = await client.SendAsync(Wrap(w => ApiWrappers.WriteInvokeWithLayer(w, 227), new Ping(3).ToBytes()), true, msgId: id);
        Assert.Equal(new Pong(id, 3), reply.Single<Pong>());
    }

    [Fact]
    public async Task Unknown_auth_key_gives_AuthKeyUnknown_and_no_messages()
    {
        SharedCluster c = await ClusterAsync();
        var (_, unknownKeyId) = TestData.NewKey();
        FrameResult r = await c.Grains.GetSessionGrain(unknownKeyId, 1).ProcessFrame(
            new IncomingFrame(1, TestData.ClientMsgId(c.Clock.GetUtcNow()), 0, new Ping(1).ToBytes(), 1)).WaitAsync(Bound);
        Assert.Equal(FrameDisposition.AuthKeyUnknown, r.Disposition);
        Assert.Empty(r.Messages);
    }

    [Fact]
    public async Task Http_wait_is_accepted_without_an_answer_and_msgs_ack_needs_none()
    {
        SessionClient client = await SessionClient.CreateAsync(await ClusterAsync());
        await client.SendAsync(new Ping(0));
        Assert.Empty((await client.SendAsync(new HttpWait(0, 0, 25000))).Messages);
        Assert.Empty((await client.SendAsync(new MsgsAck([1, 5]))).Messages);
        // An odd (content-related) http_wait is acknowledged, since nothing else answers it.
        long id = client.NextMsgId();
        Reply odd = await client.SendAsync(new HttpWait(0, 0, 25000).ToBytes(), true, msgId: id);
        Assert.Equal(new[] { id }, odd.Single<MsgsAck>().MsgIds.ToArray());
    }
}
