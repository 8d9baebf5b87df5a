using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Schema;
using static MtActors.Grains.Tests.Sessions.SessionClient;

namespace MtActors.Grains.Tests.Sessions;

/// <summary>msgs_state_req, msg_resend_req, duplicated queries, rpc_drop_answer, re-sending unacknowledged messages.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MessageStatusTests(PostgresFixture pg)
{
    private Task<SharedCluster> ClusterAsync() => TestApi.ClusterAsync(pg);

    /// <summary>A re-sent message: same msg_id, seq_no and body as the first time.</summary>
    private static void AssertSameMessage(Received expected, Received actual)
    {
        Assert.Equal(expected.MsgId, actual.MsgId);
        Assert.Equal(expected.SeqNo, actual.SeqNo);
        Assert.Equal(expected.Body, actual.Body);
    }

    private static async Task<SessionClient> StartedAsync(SharedCluster c)
    {
        SessionClient client = await SessionClient.CreateAsync(c);
        Reply first = await client.SendAsync(new Ping(0));
        // acknowledge new_session_created so it is not re-sent later
        await client.SendAsync(new MsgsAck([first.Messages.Single(m => m.Object is NewSessionCreated).MsgId]));
        return client;
    }

    [Fact]
    public async Task Msgs_state_req_reports_each_status_byte()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        long gapBelow = client.NextMsgId();
        long answered = client.NextMsgId();
        Reply answer = await client.SendAsync(Echo(), true, answered);
        long acked = client.NextMsgId();
        Reply ackedAnswer = await client.SendAsync(Echo(), true, acked);
        await client.SendAsync(new MsgsAck([ackedAnswer.Messages[0].MsgId]));
        long evenPing = client.NextMsgId();
        await client.SendAsync(new Ping(1).ToBytes(), false, evenPing);
        long gap = client.NextMsgId();
        long req = client.NextMsgId();
        long tooHigh = req + (1L << 32);

        // Fill nothing more: ask about all of them, plus one far below everything ever received.
        long[] ids = [answered, acked, evenPing, gap, tooHigh, gapBelow];
        Reply reply = await client.SendAsync(new MsgsStateReq([.. ids]).ToBytes(), false, req);
        MsgsStateInfo info = reply.Single<MsgsStateInfo>();
        Assert.Equal(req, info.ReqMsgId);
        Assert.Equal(0, reply.Messages[0].SeqNo & 1);
        Assert.Equal(
            new byte[]
            {
                4 | 8 | 32 | 64,        // received, answered (RPC processed, answer generated)
                4 | 8 | 32 | 64 | 128,  // ... and the client acknowledged the answer
                4 | 16,                 // received, needs no acknowledgement
                2,                      // not received, within the received range
                3,                      // not received, above everything received
                2,                      // a gap below later ids is still "not received" while remembered ids are above it
            },
            info.Info.ToArray());
        Assert.NotEmpty(answer.Messages);
    }

    [Fact]
    public async Task Msgs_state_req_reports_unknown_below_the_window_and_a_running_query()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        long forgotten = client.NextMsgId();
        await client.SendAsync(new Ping(1).ToBytes(), false, forgotten);
        await client.SendContainerAsync([.. Enumerable.Range(0, 300).Select(_ => S(new MsgsAck([])))]);

        // A query still running in one frame while another frame (e.g. another connection) asks about it.
        string key = TestApi.NewKey();
        long running = client.NextMsgId();
        Task<Reply> slow = client.SendAsync(TestApi.Call(TestApi.Gate, key), true, running);
        await TestApi.WaitStartedAsync(key);
        long req = client.NextMsgId();
        Reply reply = await client.SendAsync(new MsgsStateReq([forgotten, running]).ToBytes(), false, req);
        Assert.Equal(new byte[] { 1, 4 | 32 }, reply.Single<MsgsStateInfo>().Info.ToArray());
        TestApi.Release(key);
        Reply done = await slow;
        Assert.Equal(BitConverter.GetBytes(ConstructorIds.BoolTrue), done.ResultOf(running));
    }

    [Fact]
    public async Task Duplicate_query_is_never_executed_twice_small_answers_are_resent_big_or_acknowledged_ones_described()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        string key = TestApi.NewKey();
        long q = client.NextMsgId();
        int qSeq = client.NextSeqNo(true);
        Reply first = await client.SendAsync(TestApi.Call(TestApi.Count, key), true, q, qSeq);
        Received answer = Assert.Single(first.Messages);

        // The same message again (e.g. re-sent by the client after a lost answer): the answer is re-sent as it was,
        // in a container (never alone with the same msg_id), and the query is not executed again.
        Reply again = await client.SendAsync(TestApi.Call(TestApi.Count, key), true, q, qSeq);
        Assert.Equal(1, TestApi.Executions[key]);
        Received resent = Assert.Single(again.Messages);
        Assert.True(resent.InContainer);
        AssertSameMessage(answer, resent);

        // A big answer: msg_detailed_info(msg_id, answer_msg_id, bytes, 0).
        long big = client.NextMsgId();
        byte[] echo = Echo(4000);
        int bigSeq = client.NextSeqNo(true);
        Reply bigAnswer = await client.SendAsync(echo, true, big, bigSeq);
        Received bigMsg = Assert.Single(bigAnswer.Messages);
        Reply bigAgain = await client.SendAsync(echo, true, big, bigSeq);
        Assert.Equal(new MsgDetailedInfo(big, bigMsg.MsgId, bigMsg.Body.Length, 0), bigAgain.Single<MsgDetailedInfo>());

        // Once the client acknowledged the small answer, a duplicate gets msg_detailed_info too.
        await client.SendAsync(new MsgsAck([answer.MsgId]));
        Reply afterAck = await client.SendAsync(TestApi.Call(TestApi.Count, key), true, q, qSeq);
        Assert.Equal(new MsgDetailedInfo(q, answer.MsgId, answer.Body.Length, 0), afterAck.Single<MsgDetailedInfo>());
        Assert.Equal(1, TestApi.Executions[key]);

        // The duplicate inside a fresh container (tdlib's re-send): same treatment.
        long cid = client.NextMsgId();
        Reply inContainer = await client.SendFrameAsync(client.BuildContainer(cid, client.NextSeqNo(false),
            [new Item(TestApi.Call(TestApi.Count, key), true) { MsgId = q, SeqNo = qSeq }]));
        Assert.Equal(q, inContainer.Single<MsgDetailedInfo>().MsgId);
        Assert.Equal(1, TestApi.Executions[key]);
    }

    [Fact]
    public async Task Msg_resend_req_resends_known_messages_and_answers_msgs_state_info_when_one_is_unknown()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        long q1 = client.NextMsgId();
        Received a1 = Assert.Single((await client.SendAsync(Echo(), true, q1)).Messages);
        long q2 = client.NextMsgId();
        Received a2 = Assert.Single((await client.SendAsync(Echo(16), true, q2)).Messages);

        Reply resent = await client.SendAsync(new MsgResendReq([a1.MsgId, a2.MsgId]));
        Assert.Equal(2, resent.Messages.Count);
        Assert.All(resent.Messages, m => Assert.True(m.InContainer));
        AssertSameMessage(a1, resent.Messages[0]);
        AssertSameMessage(a2, resent.Messages[1]);

        long req = client.NextMsgId();
        Reply unknown = await client.SendAsync(new MsgResendReq([a1.MsgId, a1.MsgId + 4000]).ToBytes(), false, req);
        MsgsStateInfo info = unknown.Single<MsgsStateInfo>();
        Assert.Equal(req, info.ReqMsgId);
        Assert.Equal(2, info.Info.Length);
        Assert.True(unknown.None<RpcResult>());
    }

    [Fact]
    public async Task Rpc_drop_answer_unknown_dropped_and_dropped_running()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);

        // Nothing known about the query: rpc_answer_unknown (inside rpc_result, content-related).
        long drop1 = client.NextMsgId();
        Reply unknown = await client.SendAsync(new RpcDropAnswer(client.NextMsgId() - 4000).ToBytes(), true, drop1);
        Assert.IsType<RpcAnswerUnknown>(unknown.ServiceResultOf(drop1));

        // Answered, not acknowledged yet: removed from the out-queue, rpc_answer_dropped(msg_id, seq_no, bytes) ...
        long q = client.NextMsgId();
        Received answer = Assert.Single((await client.SendAsync(Echo(), true, q)).Messages);
        long drop2 = client.NextMsgId();
        Reply dropped = await client.SendAsync(new RpcDropAnswer(q).ToBytes(), true, drop2);
        Assert.Equal(new RpcAnswerDropped(answer.MsgId, answer.SeqNo, answer.Body.Length), dropped.ServiceResultOf(drop2));
        // ... and never re-sent (a new connection re-sends only the drop answer itself, still unacknowledged).
        client.ConnectionId++;
        Reply afterReconnect = await client.SendAsync(new Ping(1));
        Assert.DoesNotContain(afterReconnect.Messages, m => m.MsgId == answer.MsgId);
        // A second drop of the same query: nothing left to drop.
        long drop3 = client.NextMsgId();
        Assert.IsType<RpcAnswerUnknown>((await client.SendAsync(new RpcDropAnswer(q).ToBytes(), true, drop3)).ServiceResultOf(drop3));

        // Still running: rpc_answer_dropped_running, the handler is cancelled, and the original query gets the same.
        string key = TestApi.NewKey();
        long running = client.NextMsgId();
        Task<Reply> slow = client.SendAsync(TestApi.Call(TestApi.Gate, key), true, running);
        await TestApi.WaitStartedAsync(key);
        long drop4 = client.NextMsgId();
        Reply droppedRunning = await client.SendAsync(new RpcDropAnswer(running).ToBytes(), true, drop4);
        Assert.IsType<RpcAnswerDroppedRunning>(droppedRunning.ServiceResultOf(drop4));
        Reply original = await slow;
        Assert.IsType<RpcAnswerDroppedRunning>(original.ServiceResultOf(running));
        Assert.True(TestApi.GateCancelled.ContainsKey(key));
    }

    [Fact]
    public async Task Unacknowledged_content_messages_are_resent_on_a_new_connection_until_acknowledged()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await SessionClient.CreateAsync(c);
        Reply first = await client.SendAsync(new Ping(0));
        Received nsc = first.Messages.Single(m => m.Object is NewSessionCreated);
        long q = client.NextMsgId();
        Received answer = Assert.Single((await client.SendAsync(Echo(), true, q)).Messages);

        // Same connection: nothing is repeated.
        Assert.Single((await client.SendAsync(new Ping(1))).Messages);

        // New connection: new_session_created and the answer again (same msg_id and seq_no, in a container), then the pong.
        client.ConnectionId = 1000 + client.ConnectionId;
        Reply reconnect = await client.SendAsync(new Ping(2));
        Assert.Equal(3, reconnect.Messages.Count);
        AssertSameMessage(nsc, reconnect.Messages[0]);
        AssertSameMessage(answer, reconnect.Messages[1]);
        Assert.IsType<Pong>(reconnect.Messages[2].Object);
        Assert.All(reconnect.Messages, m => Assert.True(m.InContainer));

        // Acknowledged (with an odd seq_no, as mtcute does): the next new connection re-sends nothing.
        Assert.Empty((await client.SendAsync(new MsgsAck([nsc.MsgId, answer.MsgId]).ToBytes(), contentRelated: true)).Messages);
        client.ConnectionId++;
        Reply clean = await client.SendAsync(new Ping(3));
        Assert.IsType<Pong>(Assert.Single(clean.Messages).Object);
    }

    [Fact]
    public async Task Unacknowledged_messages_and_answers_survive_a_clean_deactivation()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        long q = client.NextMsgId();
        Received answer = Assert.Single((await client.SendAsync(Echo(), true, q)).Messages);
        await c.Cluster.DeactivateAsync(client.Grain).WaitAsync(Bound);

        client.ConnectionId++;
        Reply reply = await client.SendAsync(new Ping(1));
        Assert.Contains(reply.Messages, m => m.MsgId == answer.MsgId && m.Body.SequenceEqual(answer.Body));
        Assert.True(reply.None<NewSessionCreated>()); // a clean move loses nothing: no re-creation notice
        // and the duplicate query is still recognised
        Reply dup = await client.SendAsync(Echo(), true, q, 1);
        Assert.Contains(dup.Messages, m => m.MsgId == answer.MsgId);
    }

    [Fact]
    public async Task Msgs_all_info_from_the_client_counts_as_an_acknowledgement()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        Received answer = Assert.Single((await client.SendAsync(Echo(), true)).Messages);
        Received other = Assert.Single((await client.SendAsync(Echo(16), true)).Messages);
        // received (4) for the first, "not received" (2) for the second
        Assert.Empty((await client.SendAsync(new MsgsAllInfo([answer.MsgId, other.MsgId], [4 | 128, 2]))).Messages);
        client.ConnectionId++;
        Reply reconnect = await client.SendAsync(new Ping(1));
        Assert.DoesNotContain(reconnect.Messages, m => m.MsgId == answer.MsgId);
        Assert.Contains(reconnect.Messages, m => m.MsgId == other.MsgId);
    }

    [Fact]
    public async Task Invoke_after_msg_waits_for_a_query_still_running_in_another_frame()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        string key = TestApi.NewKey();
        long gate = client.NextMsgId();
        Task<Reply> first = client.SendAsync(TestApi.Call(TestApi.Gate, key), true, gate);
        await TestApi.WaitStartedAsync(key);

        long after = client.NextMsgId();
        Task<Reply> second = client.SendAsync(Wrap(w => ApiWrappers.WriteInvokeAfterMsg(w, gate), Echo()), true, after);
        await Task.Delay(300);
        Assert.False(second.IsCompleted);
        TestApi.Release(key);
        Reply firstReply = await first;
        Reply secondReply = await second;
        Assert.Equal(Echo(), secondReply.ResultOf(after));
        Assert.True(firstReply.Messages.Single(m => m.Object is RpcResult).MsgId < secondReply.Messages.Single(m => m.Object is RpcResult).MsgId);
    }

    [Fact]
    public async Task Msg_copy_is_processed_like_a_container_of_one()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        long inner = client.NextMsgId();
        long copyId = client.NextMsgId();
        byte[] copy = new MsgCopy(new ContainerMessage(inner, 0, [.. new Ping(8).ToBytes()])).ToBytes();
        Reply reply = await client.SendAsync(copy, false, copyId, client.NextSeqNo(false));
        Assert.Equal(new Pong(inner, 8), reply.Single<Pong>());

        long bad = client.NextMsgId();
        byte[] badCopy = new MsgCopy(new ContainerMessage(bad + 4, 0, [.. new Ping(9).ToBytes()])).ToBytes();
        Assert.Equal(64, (await client.SendAsync(badCopy, false, bad, client.NextSeqNo(false))).BadMsg().ErrorCode);
    }

    [Fact]
    public async Task A_reconnecting_client_that_repeats_its_query_gets_each_unacknowledged_message_once()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await SessionClient.CreateAsync(c);
        Reply first = await client.SendAsync(new Ping(0));
        long nsc = first.Messages.Single(m => m.Object is NewSessionCreated).MsgId;
        long q = client.NextMsgId();
        int seq = client.NextSeqNo(true);
        long answer = Assert.Single((await client.SendAsync(Echo(), true, q, seq)).Messages).MsgId;

        client.ConnectionId++;
        Reply again = await client.SendAsync(Echo(), true, q, seq); // only a duplicate in this frame
        Assert.Equal(new[] { nsc, answer }, again.Messages.Select(m => m.MsgId).ToArray());
        Assert.All(again.Messages, m => Assert.True(m.InContainer));
    }
}
