using System.Security.Cryptography;
using MtActors.Grains.Api;
using MtActors.Grains.Sessions;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Schema;

namespace MtActors.Grains.Tests.Sessions;

/// <summary>Pure tests of <see cref="SessionCore"/>'s frame halves (no cluster): options, crash recovery, bounds, packing.</summary>
public sealed class SessionCoreFrameTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly AuthKeySessionBinding _binding = new(RandomNumberGenerator.GetBytes(32), null, Now.AddDays(-1), null);
    private long _msgId = TestData.ClientMsgId(Now);
    private int _seq;

    private long Salt => SaltSchedule.Current(_binding.SaltSeed, Now);

    private IncomingFrame Frame(TlObject body, bool contentRelated = false, long connection = 1) =>
        Frame(body.ToBytes(), contentRelated, connection);

    private IncomingFrame Frame(byte[] body, bool contentRelated, long connection = 1)
    {
        _msgId += 4;
        int seq = contentRelated ? _seq * 2 + 1 : _seq * 2;
        if (contentRelated) _seq++;
        return new IncomingFrame(Salt, _msgId, seq, body, connection);
    }

    private Reply Run(SessionCore core, IncomingFrame frame, Action<PendingCall>? complete = null)
    {
        FramePlan plan = core.BeginFrame(frame, _binding, 7, 9, Now);
        foreach (PendingCall call in plan.Calls) complete?.Invoke(call);
        return new Reply(core.CompleteFrame(plan, Now));
    }

    [Theory]
    [InlineData(DestroyAnswerForm.Bare, true, false)]
    [InlineData(DestroyAnswerForm.RpcResult, false, true)]
    [InlineData(DestroyAnswerForm.Both, true, true)]
    public void Destroy_answers_follow_the_configured_form(DestroyAnswerForm form, bool bare, bool wrapped)
    {
        var core = SessionCore.Empty(new SessionOptions { DestroyAnswers = form });
        Run(core, Frame(new Ping(1)));
        IncomingFrame destroy = Frame(new DestroySession(55), contentRelated: true);
        Reply reply = Run(core, destroy, call => ((DestroySessionCall)call).Existed = true);
        Assert.Equal(bare, reply.All<DestroySessionOk>().Any(o => o.SessionId == 55));
        Assert.Equal(wrapped, reply.All<RpcResult>().Any(r => r.ReqMsgId == destroy.MsgId));
        if (wrapped) Assert.Equal(new DestroySessionOk(55), reply.ServiceResultOf(destroy.MsgId));
        if (bare && wrapped) Assert.IsType<DestroySessionOk>(reply.Messages[0].Object); // bare first

        IncomingFrame self = Frame(new DestroySession(7));
        Reply selfReply = Run(core, self);
        Assert.Equal(bare, selfReply.All<DestroySessionNone>().Any(o => o.SessionId == 7));
        if (wrapped) Assert.Equal(new DestroySessionNone(7), selfReply.ServiceResultOf(self.MsgId));
    }

    [Theory]
    [InlineData(DestroyAuthKeyResult.Ok, typeof(DestroyAuthKeyOk), FrameDisposition.CloseAfterSend)]
    [InlineData(DestroyAuthKeyResult.None, typeof(DestroyAuthKeyNone), FrameDisposition.CloseAfterSend)]
    [InlineData(DestroyAuthKeyResult.Fail, typeof(DestroyAuthKeyFail), FrameDisposition.Continue)]
    public void Destroy_auth_key_outcomes(DestroyAuthKeyResult outcome, Type answer, FrameDisposition disposition)
    {
        var core = SessionCore.Empty(new SessionOptions());
        Run(core, Frame(new Ping(1)));
        Reply reply = Run(core, Frame(DestroyAuthKey.Instance), call => ((DestroyAuthKeyCall)call).Outcome = outcome);
        Assert.Equal(disposition, reply.Result.Disposition);
        Assert.IsType(answer, Assert.Single(reply.Messages).Object);
    }

    [Fact]
    public void After_a_crash_the_first_accepted_message_announces_a_new_session_and_after_a_clean_end_nothing()
    {
        var options = new SessionOptions();
        var core = SessionCore.Empty(options);
        Reply first = Run(core, Frame(new Ping(1)));
        long uniqueId = first.Single<NewSessionCreated>().UniqueId;
        Run(core, Frame(SessionClient.Echo(), contentRelated: true), call => ((ApiCall)call).Result = ApiResult.Ok(true));

        // A running activation's row (reservations held): the next activation cannot know what was lost.
        SessionState crashed = core.Snapshot(final: false);
        Assert.NotEqual(0, crashed.ClientReservedUpTo);
        Assert.Empty(crashed.Unacked);
        var recovered = SessionCore.Load(crashed, options);
        _msgId += (long)options.ReservationSeconds << 32; // ids inside the dead activation's reservation get 20
        IncomingFrame next = Frame(new Ping(2));
        Reply announce = Run(recovered, next);
        NewSessionCreated nsc = announce.Single<NewSessionCreated>();
        Assert.Equal(next.MsgId, nsc.FirstMsgId); // the client re-sends what it sent before
        Assert.NotEqual(uniqueId, nsc.UniqueId);
        Assert.True(Run(recovered, Frame(new Ping(3))).None<NewSessionCreated>()); // once

        // A clean end keeps the unacknowledged messages and announces nothing.
        SessionState clean = recovered.Snapshot(final: true);
        Assert.Equal(0, clean.ClientReservedUpTo);
        Assert.NotEmpty(clean.Unacked);
        var moved = SessionCore.Load(clean, options);
        Reply resumed = Run(moved, Frame(new Ping(4), connection: 2));
        // The only new_session_created is the unacknowledged one from before, re-sent on this new connection.
        long announced = announce.Messages.Single(x => x.Object is NewSessionCreated).MsgId;
        Assert.Equal(announced, Assert.Single(resumed.Messages, m => m.Object is NewSessionCreated).MsgId);
    }

    [Fact]
    public void The_unacknowledged_queue_is_bounded_and_forgets_the_oldest_first()
    {
        var core = SessionCore.Empty(new SessionOptions { MaxUnackedMessages = 16 });
        Reply first = Run(core, Frame(new Ping(0)));
        var answers = new List<long>();
        for (int i = 0; i < 20; i++)
        {
            Reply r = Run(core, Frame(SessionClient.Echo(), contentRelated: true), call => ((ApiCall)call).Result = ApiResult.Ok(true));
            answers.Add(Assert.Single(r.Messages).MsgId);
        }
        Reply reconnect = Run(core, Frame(new Ping(1), connection: 2));
        long[] resent = [.. reconnect.Messages.Where(m => m.Object is RpcResult).Select(m => m.MsgId)];
        Assert.Equal(answers.Skip(4), resent);
        Assert.DoesNotContain(reconnect.Messages, m => m.Object is NewSessionCreated);
        Assert.NotNull(first);
    }

    [Fact]
    public void A_message_too_big_for_a_container_travels_alone_and_msg_ids_rise_frame_by_frame()
    {
        var core = SessionCore.Empty(new SessionOptions());
        Run(core, Frame(new Ping(0)));
        var big = new byte[SessionCore.MaxContainerBytes + 100];
        big[0] = 0x11; // any boxed object
        _msgId += 4;
        long ping = _msgId, query = _msgId + 4, container = _msgId + 8;
        _msgId += 8;
        using var writer = new Protocol.Tl.TlWriter();
        MsgContainer.WriteHeader(writer, 2);
        MsgContainer.WriteItem(writer, ping, 2, new Ping(5).ToBytes());
        MsgContainer.WriteItem(writer, query, 3, SessionClient.Echo());
        Reply reply = Run(core, new IncomingFrame(Salt, container, 4, writer.ToArray(), 1), call => ((ApiCall)call).Result = ApiResult.Ok(big));
        Assert.Equal(2, reply.Result.Messages.Length);
        Assert.Equal(big.Length + 12, reply.Result.Messages[1].Body.Length); // rpc_result alone
        Assert.True(reply.Result.Messages[0].MsgId < reply.Result.Messages[1].MsgId);
        Assert.Equal(new Pong(ping, 5), Assert.Single(reply.Messages, m => m.InContainer).Object);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(100)] // more items than the per-thread working lists keep between frames
    public void Frames_of_different_sessions_in_turn_on_one_thread_each_answer_only_their_own_messages(int items)
    {
        var a = SessionCore.Empty(new SessionOptions());
        var b = SessionCore.Empty(new SessionOptions());
        Run(a, Frame(new Ping(0)));
        Run(b, Frame(new Ping(0)));
        for (int round = 0; round < 3; round++)
        {
            using var writer = new Protocol.Tl.TlWriter();
            MsgContainer.WriteHeader(writer, items);
            var pings = new List<long>();
            for (int i = 0; i < items; i++)
            {
                _msgId += 4;
                pings.Add(_msgId);
                MsgContainer.WriteItem(writer, _msgId, 2 * _seq, new Ping(1000 + i).ToBytes());
            }
            _msgId += 4;
            Reply container = Run(a, new IncomingFrame(Salt, _msgId, 2 * _seq, writer.ToArray(), 1));
            Assert.Equal(pings, container.All<Pong>().Select(p => p.MsgId));
            Assert.Equal(Enumerable.Range(1000, items).Select(i => (long)i), container.All<Pong>().Select(p => p.PingId));

            IncomingFrame single = Frame(new Ping(7 + round));
            Reply alone = Run(b, single);
            Assert.Equal(new Pong(single.MsgId, 7 + round), Assert.Single(alone.Messages).Object);
        }
    }

    [Fact]
    public void Invalid_options_are_reported()
    {
        Assert.Null(new SessionOptions().Validate());
        Assert.NotNull(new SessionOptions { ApiCallTimeoutSeconds = 0 }.Validate());
        Assert.NotNull(new SessionOptions { MaxUnackedMessages = 1 }.Validate());
        Assert.NotNull(new SessionOptions { MaxUnackedBytes = 1 }.Validate());
        Assert.NotNull(new SessionOptions { DuplicateAnswerResendMaxBytes = -1 }.Validate());
        Assert.NotNull(new SessionOptions { DestroyAnswers = (DestroyAnswerForm)9 }.Validate());
    }
}
