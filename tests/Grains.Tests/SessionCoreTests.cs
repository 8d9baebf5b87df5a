using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using MtActors.Grains.Sessions;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Messages;
using Orleans.Serialization;
using Orleans.Storage;

namespace MtActors.Grains.Tests;

/// <summary>The session logic without Orleans: salts, msg_id window, replay floor, server numbering.</summary>
public sealed class SessionCoreTests
{
    private static readonly SessionOptions Options = new() { ReplayWindowSize = 64, ReservationSeconds = 5 };
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 7, TimeSpan.Zero);
    private readonly AuthKeySessionBinding _binding = new(RandomNumberGenerator.GetBytes(32), null, T0.AddDays(-1), null);

    private long Salt(DateTimeOffset at) => SaltSchedule.Current(_binding.SaltSeed, at);

    [Fact]
    public void First_accepted_message_creates_the_session_with_new_session_created()
    {
        var core = SessionCore.Empty(Options);
        long m1 = TestData.ClientMsgId(T0);
        ReceiveResult r = core.Receive(Salt(T0), [new InboundMessage(m1, 0)], _binding, T0);

        Assert.Equal(ReceiveStatus.Ok, r.Status);
        Assert.True(r.Created);
        Assert.True(core.Exists);
        Assert.True(core.MustPersist);
        SessionNotice notice = Assert.Single(r.Notices);
        Assert.Equal(SessionNoticeKind.NewSessionCreated, notice.Kind);
        Assert.Equal(m1, notice.RefMsgId);
        Assert.Equal(core.UniqueId, notice.UniqueId);
        Assert.Equal(Salt(T0), notice.ServerSalt);
        Assert.Equal(1, notice.Header.SeqNo);          // content-related, first
        Assert.Equal(1, notice.Header.MsgId & 3);      // answer to a client message

        ReceiveResult again = core.Receive(Salt(T0), [new InboundMessage(m1 + 4, 0)], _binding, T0);
        Assert.False(again.Created);
        Assert.Empty(again.Notices);
    }

    [Fact]
    public void Bad_salt_processes_nothing_and_creates_nothing()
    {
        var core = SessionCore.Empty(Options);
        long m1 = TestData.ClientMsgId(T0);
        ReceiveResult r = core.Receive(Salt(T0) ^ 0x5555, [new InboundMessage(m1, 0)], _binding, T0);

        Assert.Equal(ReceiveStatus.BadServerSalt, r.Status);
        Assert.False(core.Exists);
        SessionNotice n = Assert.Single(r.Notices);
        Assert.Equal((SessionNoticeKind.BadServerSalt, m1, 0, 48, Salt(T0)), (n.Kind, n.RefMsgId, n.RefSeqNo, n.Code, n.ServerSalt));
        // The message was not remembered: the same msg_id with the right salt is accepted.
        Assert.Equal(MessageVerdict.Accepted, core.Receive(Salt(T0), [new InboundMessage(m1, 0)], _binding, T0).Messages[0].Verdict);
    }

    [Fact]
    public void Salts_rotate_every_30_minutes_and_the_previous_one_is_accepted_only_within_its_grace()
    {
        byte[] seed = _binding.SaltSeed;
        DateTimeOffset start = DateTimeOffset.FromUnixTimeSeconds(SaltSchedule.PeriodOf(T0) * SaltSchedule.PeriodSeconds);
        long s0 = SaltSchedule.Current(seed, start);
        long s1 = SaltSchedule.Current(seed, start.AddSeconds(1800));
        Assert.NotEqual(s0, s1);
        Assert.Equal(s0, SaltSchedule.Current(seed, start.AddSeconds(1799)));

        Assert.True(SaltSchedule.IsAccepted(seed, s0, start.AddSeconds(1800), null, T0));   // grace starts
        Assert.True(SaltSchedule.IsAccepted(seed, s0, start.AddSeconds(3599), null, T0));   // last second of grace
        Assert.False(SaltSchedule.IsAccepted(seed, s0, start.AddSeconds(3600), null, T0));  // grace over
        Assert.False(SaltSchedule.IsAccepted(seed, s1, start.AddSeconds(1799), null, T0));  // not yet valid
        Assert.False(SaltSchedule.IsAccepted(seed, 0, start, null, T0));
    }

    [Fact]
    public void The_salt_of_a_period_is_the_documented_hmac_so_every_version_of_every_silo_computes_the_same()
    {
        byte[] seed = _binding.SaltSeed;
        long period = SaltSchedule.PeriodOf(T0);
        byte[] input = [.. "mtactors-salt"u8, .. BitConverter.GetBytes(period)]; // int64 little-endian
        long expected = BitConverter.ToInt64(HMACSHA256.HashData(seed, input));
        Assert.Equal(expected == 0 ? 1 : expected, SaltSchedule.SaltOf(seed, period));
    }

    [Fact]
    public void The_salt_cache_answers_as_the_schedule_across_rotations_and_a_change_of_seed()
    {
        byte[] seed = _binding.SaltSeed;
        byte[] other = [.. seed];
        other[0] ^= 1;
        const long initial = 0x1234_5678_9abc_def0;
        var cache = new SaltCache();
        DateTimeOffset start = DateTimeOffset.FromUnixTimeSeconds(SaltSchedule.PeriodOf(T0) * SaltSchedule.PeriodSeconds);
        int[] offsets = [0, 1, 1799, 1800, 1801, 3599, 3600, 3601, 9000, 5400, 0];
        foreach (byte[] s in new[] { seed, other, seed })
        {
            foreach (int offset in offsets)
            {
                DateTimeOffset at = start.AddSeconds(offset);
                Assert.Equal(SaltSchedule.Current(s, at), cache.Current(s, at));
                foreach (int p in new[] { -2, -1, 0, 1 })
                {
                    long candidate = SaltSchedule.Current(s, at.AddSeconds(p * SaltSchedule.PeriodSeconds));
                    Assert.Equal(SaltSchedule.IsAccepted(s, candidate, at, null, T0), cache.IsAccepted(s, candidate, at, null, T0));
                }
                Assert.Equal(SaltSchedule.IsAccepted(s, initial, at, initial, T0), cache.IsAccepted(s, initial, at, initial, T0));
                Assert.False(cache.IsAccepted(s, SaltSchedule.Current(s == seed ? other : seed, at), at, null, T0));
            }
        }
    }

    [Fact]
    public void Initial_handshake_salt_is_accepted_for_the_first_period_plus_grace()
    {
        byte[] seed = _binding.SaltSeed;
        const long initial = 0x1234_5678_9abc_def0;
        Assert.True(SaltSchedule.IsAccepted(seed, initial, T0.AddSeconds(3599), initial, T0));
        Assert.False(SaltSchedule.IsAccepted(seed, initial, T0.AddSeconds(3601), initial, T0));
        Assert.False(SaltSchedule.IsAccepted(seed, initial, T0, null, T0));
    }

    [Fact]
    public void Future_salts_start_with_the_current_one_are_contiguous_and_clamped()
    {
        byte[] seed = _binding.SaltSeed;
        var salts = SaltSchedule.Future(seed, T0, 100);
        Assert.Equal(64, salts.Length);
        Assert.Equal(Salt(T0), salts[0].Salt);
        Assert.True(salts[0].ValidSince <= T0.ToUnixTimeSeconds() && T0.ToUnixTimeSeconds() < salts[0].ValidUntil);
        for (int i = 1; i < salts.Length; i++)
        {
            Assert.Equal(salts[i - 1].ValidUntil, salts[i].ValidSince);
            Assert.Equal(1800, salts[i].ValidUntil - salts[i].ValidSince);
            Assert.Equal(SaltSchedule.Current(seed, DateTimeOffset.FromUnixTimeSeconds(salts[i].ValidSince)), salts[i].Salt);
        }
        Assert.Equal(3, SaltSchedule.Future(seed, T0, 1).Length);
        Assert.Equal(3, SaltSchedule.Future(seed, T0, -5).Length);
        // Another seed, other salts.
        Assert.NotEqual(salts[0].Salt, SaltSchedule.Current(RandomNumberGenerator.GetBytes(32), T0));
    }

    [Fact]
    public void Msg_id_checks_parity_time_window_and_duplicates()
    {
        var core = SessionCore.Empty(Options);
        MessageVerdict Send(long id) => core.Receive(Salt(T0), [new InboundMessage(id, 0)], _binding, T0).Messages[0].Verdict;
        long now = TestData.ClientMsgId(T0);

        Assert.Equal(MessageVerdict.Accepted, Send(now));
        Assert.Equal(MessageVerdict.Duplicate, Send(now));
        Assert.Equal(MessageVerdict.MsgIdInvalid, Send(now + 5));
        Assert.Equal(MessageVerdict.MsgIdTooLow, Send(TestData.ClientMsgId(T0.AddSeconds(-301))));
        Assert.Equal(MessageVerdict.MsgIdTooHigh, Send(TestData.ClientMsgId(T0.AddSeconds(31))));
        Assert.Equal(MessageVerdict.Accepted, Send(TestData.ClientMsgId(T0.AddSeconds(-299))));
        Assert.Equal(MessageVerdict.Accepted, Send(TestData.ClientMsgId(T0.AddSeconds(29))));

        // Each refused message gets its bad_msg_notification; a duplicate gets none.
        ReceiveResult r = core.Receive(Salt(T0), [new InboundMessage(now + 5, 0)], _binding, T0);
        SessionNotice n = Assert.Single(r.Notices);
        Assert.Equal((SessionNoticeKind.BadMsgNotification, now + 5, 18), (n.Kind, n.RefMsgId, n.Code));
        Assert.Equal(0, n.Header.SeqNo & 1);
        Assert.Empty(core.Receive(Salt(T0), [new InboundMessage(now, 0)], _binding, T0).Notices);
    }

    [Fact]
    public void Container_items_skip_the_time_window_but_not_the_replay_and_order_checks()
    {
        var core = SessionCore.Empty(Options);
        long container = TestData.ClientMsgId(T0);
        long agedQuery = TestData.ClientMsgId(T0.AddSeconds(-400)); // tdlib re-sends an aged query in a new container
        ReceiveResult r = core.Receive(Salt(T0), [new InboundMessage(container, 2), new InboundMessage(agedQuery, 1)], _binding, T0);
        Assert.Equal([MessageVerdict.Accepted, MessageVerdict.Accepted], r.Messages.Select(m => m.Verdict));
        Assert.Equal(agedQuery, core.FirstMsgId);

        // seq_no order against earlier messages: a higher msg_id with a lower seq_no is 32.
        ReceiveResult low = core.Receive(Salt(T0), [new InboundMessage(container + 4, 1)], _binding, T0);
        Assert.Equal(MessageVerdict.SeqNoTooLow, low.Messages[0].Verdict);
        Assert.Equal(32, Assert.Single(low.Notices).Code);
    }

    [Fact]
    public void A_lower_msg_id_arriving_later_announces_new_session_created_again()
    {
        var core = SessionCore.Empty(Options);
        long m = TestData.ClientMsgId(T0);
        core.Receive(Salt(T0), [new InboundMessage(m, 0)], _binding, T0);
        long unique = core.UniqueId;
        ReceiveResult r = core.Receive(Salt(T0), [new InboundMessage(m - 400, 0)], _binding, T0);
        SessionNotice n = Assert.Single(r.Notices);
        Assert.Equal((SessionNoticeKind.NewSessionCreated, m - 400, unique), (n.Kind, n.RefMsgId, n.UniqueId));
        Assert.False(r.Created);
    }

    [Fact]
    public void Ids_pushed_out_of_a_full_window_are_too_old_to_tell()
    {
        var core = SessionCore.Empty(Options); // window of 64
        long first = TestData.ClientMsgId(T0);
        for (int i = 0; i < 70; i++) core.Receive(Salt(T0), [new InboundMessage(first + 8 * i, 0)], _binding, T0);

        Assert.Equal(MessageVerdict.MsgIdTooOldToTell, core.Receive(Salt(T0), [new InboundMessage(first, 0)], _binding, T0).Messages[0].Verdict);
        Assert.Equal(MessageVerdict.MsgIdTooOldToTell, core.Receive(Salt(T0), [new InboundMessage(first + 4, 0)], _binding, T0).Messages[0].Verdict);
        Assert.Equal(MessageVerdict.Duplicate, core.Receive(Salt(T0), [new InboundMessage(first + 8 * 69, 0)], _binding, T0).Messages[0].Verdict);
        Assert.Equal(MessageVerdict.Accepted, core.Receive(Salt(T0), [new InboundMessage(first + 8 * 69 - 4, 0)], _binding, T0).Messages[0].Verdict);
    }

    [Fact]
    public void After_a_crash_everything_the_old_activation_may_have_accepted_is_rejected_and_new_ids_pass()
    {
        var core = SessionCore.Empty(Options);
        long m = TestData.ClientMsgId(T0);
        core.Receive(Salt(T0), [new InboundMessage(m, 0)], _binding, T0);
        SessionState durable = core.Snapshot(final: false); // what the awaited creation write stored
        core.Persisted(durable);
        // Accepted after the last write, within the reservation: no write needed ...
        core.Receive(Salt(T0), [new InboundMessage(m + 4, 0), new InboundMessage(m - 40, 0)], _binding, T0);
        Assert.False(core.MustPersist);

        // ... and the silo dies. A new activation loads the last row.
        var reborn = SessionCore.Load(durable, Options);
        var replay = reborn.Receive(Salt(T0), [new InboundMessage(m, 0), new InboundMessage(m + 4, 0), new InboundMessage(m - 40, 0)], _binding, T0);
        Assert.Equal([MessageVerdict.Duplicate, MessageVerdict.MsgIdTooOldToTell, MessageVerdict.MsgIdTooOldToTell],
            replay.Messages.Select(x => x.Verdict));
        // Beyond the reservation (5 s of msg_id space) new messages are accepted again.
        long fresh = TestData.ClientMsgId(T0.AddSeconds(6));
        Assert.Equal(MessageVerdict.Accepted, reborn.Receive(Salt(T0), [new InboundMessage(fresh, 0)], _binding, T0.AddSeconds(6)).Messages[0].Verdict);
        Assert.True(reborn.MustPersist);
    }

    [Fact]
    public void After_a_clean_deactivation_nothing_is_lost_and_late_messages_still_pass()
    {
        var core = SessionCore.Empty(Options);
        long m = TestData.ClientMsgId(T0);
        core.Receive(Salt(T0), [new InboundMessage(m, 0)], _binding, T0);
        var reborn = SessionCore.Load(core.Snapshot(final: true), Options);
        var r = reborn.Receive(Salt(T0), [new InboundMessage(m, 0), new InboundMessage(m - 40, 0)], _binding, T0);
        Assert.Equal([MessageVerdict.Duplicate, MessageVerdict.Accepted], r.Messages.Select(x => x.Verdict));
        Assert.Equal(core.UniqueId, reborn.UniqueId);
    }

    [Fact]
    public void Server_msg_ids_strictly_increase_are_odd_and_stay_above_everything_sent_after_a_reload()
    {
        var core = SessionCore.Empty(Options);
        core.Receive(Salt(T0), [new InboundMessage(TestData.ClientMsgId(T0), 0)], _binding, T0);
        core.Persisted(core.Snapshot(false));
        var ids = new List<long>();
        for (int i = 0; i < 50; i++) ids.Add(core.Allocate(i % 2 == 0 ? OutboundKind.Response : OutboundKind.Notice, T0).MsgId);
        Assert.All(ids.Zip(ids.Skip(1)), p => Assert.True(p.Second > p.First));
        Assert.All(ids.Select((id, i) => (id, i)), x => Assert.Equal(x.i % 2 == 0 ? 1 : 3, x.id & 3));
        SessionState lastWrite = core.Snapshot(false);
        // More ids after the last write (the reservation covers them), then a crash; the clock even went back.
        long sentAfterWrite = 0;
        for (int i = 0; i < 20; i++) sentAfterWrite = core.Allocate(OutboundKind.Response, T0).MsgId;
        var reborn = SessionCore.Load(lastWrite, Options);
        long next = reborn.Allocate(OutboundKind.Response, T0.AddSeconds(-10)).MsgId;
        Assert.True(next > sentAfterWrite);
        Assert.Equal(1, next & 3);
    }

    [Fact]
    public void Seq_no_is_odd_for_content_related_and_counts_only_those()
    {
        var core = SessionCore.Empty(Options);
        Assert.Equal(0, core.Allocate(OutboundKind.Response, T0).SeqNo);
        Assert.Equal(1, core.Allocate(OutboundKind.Response | OutboundKind.ContentRelated, T0).SeqNo);
        Assert.Equal(2, core.Allocate(OutboundKind.Notice, T0).SeqNo);
        Assert.Equal(3, core.Allocate(OutboundKind.ContentRelated, T0).SeqNo);
        Assert.Equal(5, core.Allocate(OutboundKind.ContentRelated, T0).SeqNo);
        Assert.Equal(6, core.Allocate(OutboundKind.Response, T0).SeqNo);
        Assert.Equal(3, core.ContentMessagesSent);
    }

    [Fact]
    public void Reservations_need_a_durable_write_only_once_per_reservation_period()
    {
        var core = SessionCore.Empty(Options);
        DateTimeOffset t = T0;
        core.Receive(Salt(t), [new InboundMessage(TestData.ClientMsgId(t), 0)], _binding, t);
        Assert.True(core.MustPersist);
        core.Persisted(core.Snapshot(false));
        int writes = 0;
        for (int i = 1; i <= 100; i++) // 100 messages over 10 s
        {
            t = T0.AddMilliseconds(100 * i);
            core.Receive(Salt(t), [new InboundMessage(TestData.ClientMsgId(t), 0)], _binding, t);
            core.Allocate(OutboundKind.Response | OutboundKind.ContentRelated, t);
            if (core.MustPersist)
            {
                writes++;
                core.Persisted(core.Snapshot(false));
            }
        }
        Assert.InRange(writes, 1, 3); // 10 s of traffic, 5 s reservations
    }

    [Fact]
    public void Snapshot_round_trips_through_the_orleans_serializer()
    {
        var core = SessionCore.Empty(Options);
        core.Receive(Salt(T0), [new InboundMessage(TestData.ClientMsgId(T0), 0), new InboundMessage(TestData.ClientMsgId(T0, 0), 3)], _binding, T0);
        core.Allocate(OutboundKind.ContentRelated, T0);
        SessionState state = core.Snapshot(false);

        using ServiceProvider services = new ServiceCollection()
            .AddSerializer(b => b.AddAssembly(typeof(SessionState).Assembly))
            .BuildServiceProvider();
        var storage = new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>());
        SessionState copy = storage.Deserialize<SessionState>(storage.Serialize(state))!;

        Assert.Equal(state.UniqueId, copy.UniqueId);
        Assert.Equal(state.RecentClientMsgIds, copy.RecentClientMsgIds);
        Assert.Equal((state.ClientReservedUpTo, state.ServerReservedUpTo, state.ContentMessagesSent, state.CreatedAt),
            (copy.ClientReservedUpTo, copy.ServerReservedUpTo, copy.ContentMessagesSent, copy.CreatedAt));
        Assert.True(MsgIds.Seconds(copy.ServerLastMsgId) >= T0.ToUnixTimeSeconds());
    }
}
