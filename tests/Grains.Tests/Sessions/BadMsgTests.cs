using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;
using static MtActors.Grains.Tests.Sessions.SessionClient;

namespace MtActors.Grains.Tests.Sessions;

/// <summary>
/// Every bad_msg_notification code under its exact condition, at its boundary; the offending message is not processed
/// (a counting API handler proves it) and the server's own msg_id carries its time.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BadMsgTests(PostgresFixture pg)
{
    private Task<SharedCluster> ClusterAsync() => TestApi.ClusterAsync(pg);

    private static async Task<SessionClient> StartedAsync(SharedCluster c)
    {
        SessionClient client = await SessionClient.CreateAsync(c);
        await client.SendAsync(new Ping(0));
        return client;
    }

    /// <summary>Sends a counted query with the given header; asserts it was refused with <paramref name="code"/> and not executed.</summary>
    private static async Task AssertRefusedAsync(SessionClient client, long msgId, int seqNo, BadMsgCode code, bool container = false)
    {
        string key = TestApi.NewKey();
        Reply reply = container
            ? await client.SendFrameAsync(client.BuildContainer(msgId, seqNo, [new Item(TestApi.Call(TestApi.Count, key), true) { MsgId = msgId - 4, SeqNo = 1 }]))
            : await client.SendAsync(TestApi.Call(TestApi.Count, key), true, msgId, seqNo);
        Received only = Assert.Single(reply.Messages);
        Assert.Equal(new BadMsgNotification(msgId, seqNo, (int)code), only.Object);
        Assert.Equal(0, only.SeqNo & 1);
        Assert.False(TestApi.Executions.ContainsKey(key), "a refused message is not processed");
    }

    private static async Task AssertAcceptedAsync(SessionClient client, long msgId, int seqNo)
    {
        string key = TestApi.NewKey();
        Reply reply = await client.SendAsync(TestApi.Call(TestApi.Count, key), true, msgId, seqNo);
        Assert.True(reply.None<BadMsgNotification>());
        Assert.Equal(1, TestApi.Executions[key]);
    }

    [Fact]
    public async Task Code_16_msg_id_more_than_300_seconds_behind_server_time_and_the_notification_carries_server_time()
    {
        SharedCluster c = await ClusterAsync();
        long now = MsgIds.FromTime(c.Clock.GetUtcNow());
        long edge = (now - (300L << 32) + 3) & ~3L; // the lowest id still inside the window
        await AssertRefusedAsync(await StartedAsync(c), edge - 4, 1, BadMsgCode.MsgIdTooLow);
        await AssertAcceptedAsync(await SessionClient.CreateAsync(c), edge, 1);

        SessionClient client = await StartedAsync(c);
        Reply reply = await client.SendAsync(new Ping(1).ToBytes(), false, msgId: now - (400L << 32) & ~3L, seqNo: 0);
        Assert.InRange(MsgIds.Seconds(reply.Messages[0].MsgId), MsgIds.Seconds(now), MsgIds.Seconds(now) + 1); // clients fix their clock from it
    }

    [Fact]
    public async Task Code_17_msg_id_more_than_30_seconds_ahead_of_server_time()
    {
        SharedCluster c = await ClusterAsync();
        long now = MsgIds.FromTime(c.Clock.GetUtcNow());
        long edge = (now + (30L << 32)) & ~3L; // the highest id still inside the window
        await AssertRefusedAsync(await StartedAsync(c), edge + 4, 1, BadMsgCode.MsgIdTooHigh);
        await AssertAcceptedAsync(await SessionClient.CreateAsync(c), edge, 1);
    }

    [Fact]
    public async Task Code_18_msg_id_not_divisible_by_4()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        long id = client.NextMsgId();
        await AssertRefusedAsync(client, id + 1, 1, BadMsgCode.MsgIdNotDivisibleBy4);
        await AssertRefusedAsync(client, id + 2, 1, BadMsgCode.MsgIdNotDivisibleBy4);
        await AssertAcceptedAsync(client, id + 4, 1);
    }

    [Fact]
    public async Task Code_19_container_msg_id_equal_to_an_earlier_message()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        string key = TestApi.NewKey();
        Item query = Q(TestApi.Call(TestApi.Count, key));
        await client.SendContainerAsync(query, S(new Ping(1)));
        Assert.Equal(1, TestApi.Executions[key]);
        long used = query.MsgId; // a message id received before, now reused for a container
        string key2 = TestApi.NewKey();
        Reply reply = await client.SendFrameAsync(client.BuildContainer(used, 10,
            [new Item(TestApi.Call(TestApi.Count, key2), true) { MsgId = used - 8, SeqNo = 9 }]));
        Assert.Equal(new BadMsgNotification(used, 10, 19), Assert.Single(reply.Messages).Object);
        Assert.False(TestApi.Executions.ContainsKey(key2));
    }

    [Fact]
    public async Task Code_20_msg_id_below_the_remembered_window()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        long oldest = client.NextMsgId(); // a gap below the window once it is full
        // Fill the window (256 ids by default) with one container of empty acks: the lowest ids are forgotten.
        Item[] acks = [.. Enumerable.Range(0, 300).Select(_ => S(new MsgsAck([])))];
        await client.SendContainerAsync(acks);
        await AssertRefusedAsync(client, oldest, 1, BadMsgCode.MsgIdTooOld);
        await AssertRefusedAsync(client, acks[10].MsgId + 0, 1, BadMsgCode.MsgIdTooOld);
    }

    [Fact]
    public async Task Codes_32_and_33_seq_no_out_of_order_with_messages_received_before()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        long a = client.NextMsgId(), b = client.NextMsgId() + 400, between = a + 200;
        await AssertAcceptedAsync(client, a, 11);
        // Higher msg_id but lower seq_no than a received message: 32.
        await AssertRefusedAsync(client, b, 9, BadMsgCode.SeqNoTooLow);
        // Equal and odd: 32 as well.
        await AssertRefusedAsync(client, b, 11, BadMsgCode.SeqNoTooLow);
        await AssertAcceptedAsync(client, b, 21);
        // Lower msg_id than a received message but higher seq_no: 33.
        await AssertRefusedAsync(client, between, 23, BadMsgCode.SeqNoTooHigh);
        await AssertAcceptedAsync(client, between, 13);
    }

    [Fact]
    public async Task Codes_34_and_35_seq_no_parity_judged_on_the_unwrapped_object_and_either_parity_for_service_calls()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        // An API query with an even seq_no: 35.
        long id = client.NextMsgId();
        await AssertRefusedAsync(client, id, client.NextSeqNo(false), BadMsgCode.SeqNoOddExpected);
        // msgs_ack with an odd seq_no: accepted (mtcute numbers its acks as content-related), no answer.
        long ackId = client.NextMsgId();
        Reply ack = await client.SendAsync(new MsgsAck([1]).ToBytes(), false, ackId, client.NextSeqNo(true));
        Assert.Empty(ack.Messages);
        // A container with an odd seq_no: 34 for the whole container.
        string key = TestApi.NewKey();
        long cid = client.NextMsgId() + 8;
        Reply container = await client.SendFrameAsync(client.BuildContainer(cid, 41,
            [new Item(TestApi.Call(TestApi.Count, key), true) { MsgId = cid - 4, SeqNo = 39 }]));
        Assert.Equal(new BadMsgNotification(cid, 41, 34), Assert.Single(container.Messages).Object);
        Assert.False(TestApi.Executions.ContainsKey(key));
        // A gzip'd query is judged by what is inside: odd is right.
        long gz = client.NextMsgId();
        Reply gzipped = await client.SendAsync(Gzip(Echo()), true, gz);
        Assert.Equal(Echo(), gzipped.ResultOf(gz));
        // Service calls: either parity (tdlib sends them even, Telethon odd).
        foreach (bool odd in new[] { false, true })
        {
            long p = client.NextMsgId();
            Assert.Single((await client.SendAsync(new Ping(5).ToBytes(), odd, p)).All<Pong>());
            long f = client.NextMsgId();
            Assert.Single((await client.SendAsync(new GetFutureSalts(3).ToBytes(), odd, f)).All<FutureSalts>());
        }
    }

    [Fact]
    public async Task Code_64_invalid_containers_are_refused_as_a_whole()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        var cases = new List<Func<long, int, (IncomingFrame Frame, string Key)>>
        {
            // an item msg_id not below the container's
            (cid, cseq) => Frame(client, cid, cseq, (cid, 1)),
            // an item seq_no above the container's
            (cid, cseq) => Frame(client, cid, cseq, (cid - 4, cseq + 1)),
            // an item msg_id not divisible by 4
            (cid, cseq) => Frame(client, cid, cseq, (cid - 6, 1)),
        };
        foreach (var build in cases)
        {
            long cid = client.NextMsgId() + 16;
            var (frame, key) = build(cid, 40);
            Reply reply = await client.SendFrameAsync(frame);
            Assert.Equal(new BadMsgNotification(cid, 40, 64), Assert.Single(reply.Messages).Object);
            Assert.False(TestApi.Executions.ContainsKey(key));
        }

        // A nested container, also hidden in gzip_packed and in invokeWithLayer.
        byte[] inner = client.BuildContainer(1 << 20, 0, [new Item(new Ping(1).ToBytes(), false) { MsgId = 4, SeqNo = 0 }]).Body;
        foreach (byte[] nested in new[] { inner, Gzip(inner), Wrap(w => ApiWrappers.WriteInvokeWithLayer(w, 1), inner) })
        {
            string key = TestApi.NewKey();
            long cid = client.NextMsgId() + 16;
            IncomingFrame frame = client.BuildContainer(cid, 40,
            [
                new Item(TestApi.Call(TestApi.Count, key), true) { MsgId = cid - 12, SeqNo = 35 },
                new Item(nested, false) { MsgId = cid - 8, SeqNo = 36 },
            ]);
            Assert.Equal(64, (await client.SendFrameAsync(frame)).BadMsg().ErrorCode);
            Assert.False(TestApi.Executions.ContainsKey(key));
        }

        // More than 1024 items; trailing bytes; a truncated item.
        long big = client.NextMsgId() + 8000;
        IncomingFrame tooMany = client.BuildContainer(big, 2 * 1100,
            [.. Enumerable.Range(0, 1025).Select(i => new Item(new MsgsAck([]).ToBytes(), false) { MsgId = big - 4 * (1025 - i) - 4, SeqNo = 2 * i })]);
        Assert.Equal(64, (await client.SendFrameAsync(tooMany)).BadMsg().ErrorCode);
        long t = client.NextMsgId() + 16;
        IncomingFrame ok = client.BuildContainer(t, 4, [new Item(new Ping(1).ToBytes(), false) { MsgId = t - 4, SeqNo = 2 }]);
        Assert.Equal(64, (await client.SendFrameAsync(ok with { Body = [.. ok.Body, 0, 0, 0, 0] })).BadMsg().ErrorCode);
        Assert.Equal(64, (await client.SendFrameAsync(ok with { Body = ok.Body[..^4] })).BadMsg().ErrorCode);
    }

    private static (IncomingFrame, string) Frame(SessionClient client, long cid, int cseq, (long MsgId, int SeqNo) item)
    {
        string key = TestApi.NewKey();
        return (client.BuildContainer(cid, cseq, [new Item(TestApi.Call(TestApi.Count, key), true) { MsgId = item.MsgId, SeqNo = item.SeqNo }]), key);
    }

    [Fact]
    public async Task Clock_check_applies_to_the_top_level_msg_id_only_so_an_aged_query_resent_in_a_fresh_container_is_accepted()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        long aged = (MsgIds.FromTime(c.Clock.GetUtcNow()) - (400L << 32)) & ~3L;
        await AssertRefusedAsync(client, aged, 1, BadMsgCode.MsgIdTooLow);
        // tdlib: the same query, original msg_id, inside a new container.
        SessionClient fresh = await SessionClient.CreateAsync(c);
        string key = TestApi.NewKey();
        long cid = fresh.NextMsgId();
        Reply reply = await fresh.SendFrameAsync(fresh.BuildContainer(cid, 2, [new Item(TestApi.Call(TestApi.Count, key), true) { MsgId = aged, SeqNo = 1 }]));
        Assert.True(reply.None<BadMsgNotification>());
        Assert.Equal(1, TestApi.Executions[key]);
    }

    [Fact]
    public async Task A_first_frame_whose_messages_are_all_refused_creates_no_session()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await SessionClient.CreateAsync(c);
        string key = TestApi.NewKey();
        long item = client.NextMsgId(), cid = client.NextMsgId();
        // the API query is even: 35; the container itself is fine
        Reply reply = await client.SendFrameAsync(client.BuildContainer(cid, 2, [new Item(TestApi.Call(TestApi.Count, key), true) { MsgId = item, SeqNo = 2 }]));
        Assert.Equal(new BadMsgNotification(item, 2, 35), reply.BadMsg());
        Assert.True(reply.None<NewSessionCreated>());
        Assert.Null(await client.Grain.GetInfo());
        Assert.Equal(0, await Sql.SessionRowsAsync(c.ConnectionString, c.ServiceId, client.AuthKeyId, client.SessionId));
    }
}
