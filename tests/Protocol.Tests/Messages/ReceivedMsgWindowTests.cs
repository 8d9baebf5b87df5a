using MtActors.Protocol.Messages;

namespace MtActors.Protocol.Tests.Messages;

public class ReceivedMsgWindowTests
{
    [Fact]
    public void New_ids_are_accepted_and_repeats_are_duplicates()
    {
        var w = new ReceivedMsgWindow(8);
        Assert.Equal(MsgIdCheck.New, w.TryAdd(100, 1));
        Assert.Equal(MsgIdCheck.New, w.TryAdd(104, 2));
        Assert.Equal(MsgIdCheck.Duplicate, w.TryAdd(100, 1));
        Assert.Equal(MsgIdCheck.Duplicate, w.TryAdd(104, 7)); // equal id, whatever the seq_no
        Assert.Equal(MsgIdCheck.Duplicate, w.Check(100, 1));
        Assert.Equal(2, w.Count);
        Assert.True(w.Contains(104));
        Assert.False(w.Contains(108));
    }

    [Fact]
    public void A_full_window_refuses_ids_below_its_lowest_as_too_old()
    {
        var w = new ReceivedMsgWindow(4);
        for (int i = 1; i <= 4; i++) Assert.Equal(MsgIdCheck.New, w.TryAdd(100 * i, 0));
        Assert.Equal(4, w.Count);
        Assert.Equal(100, w.Lowest);
        Assert.Equal(MsgIdCheck.TooOld, w.TryAdd(96, 0)); // below the lowest while full
        Assert.Equal(MsgIdCheck.Duplicate, w.TryAdd(100, 0)); // the lowest itself is still known
        Assert.Equal(MsgIdCheck.New, w.TryAdd(104, 0)); // between remembered ids: fine
        // That insertion evicted 100 into the floor.
        Assert.Equal(100, w.FloorMsgId);
        Assert.Equal(104, w.Lowest);
        Assert.Equal(MsgIdCheck.TooOld, w.TryAdd(100, 0)); // evicted: can never be accepted again
        Assert.Equal(MsgIdCheck.TooOld, w.TryAdd(102, 0));
        Assert.Equal(MsgIdCheck.New, w.TryAdd(500, 0));
        Assert.Equal(104, w.FloorMsgId);
        Assert.Equal(new long[] { 200, 300, 400, 500 }, w.ToState().MsgIds);
        Assert.Equal(BadMsgCode.MsgIdTooOld, w.TryAdd(108, 0).ToBadMsgCode(false));
    }

    [Fact]
    public void A_window_that_is_not_full_accepts_late_ids_above_the_floor()
    {
        var w = new ReceivedMsgWindow(8);
        w.TryAdd(200, 0);
        Assert.Equal(MsgIdCheck.New, w.TryAdd(100, 0)); // arrived late on another connection
        Assert.Equal(new long[] { 100, 200 }, w.ToState().MsgIds);
    }

    [Fact]
    public void Seq_no_lower_than_an_earlier_message_is_32()
    {
        var w = new ReceivedMsgWindow();
        Assert.Equal(MsgIdCheck.New, w.TryAdd(100, 5));
        Assert.Equal(MsgIdCheck.SeqNoTooLow, w.TryAdd(104, 3)); // lower seq with higher msg_id
        Assert.Equal(MsgIdCheck.SeqNoTooLow, w.TryAdd(104, 4));
        Assert.Equal(MsgIdCheck.SeqNoTooLow, w.TryAdd(104, 5)); // equal and odd: two content-related can't share it
        Assert.Equal(MsgIdCheck.New, w.TryAdd(104, 6)); // the next even after an odd 5
        Assert.Equal(MsgIdCheck.New, w.TryAdd(108, 6)); // equal and even: two non-content-related in a row
        Assert.Equal(MsgIdCheck.New, w.TryAdd(112, 7));
        Assert.Equal(MsgIdCheck.New, w.TryAdd(116, 41)); // gaps are fine
        Assert.Equal(BadMsgCode.SeqNoTooLow, w.Check(120, 40).ToBadMsgCode(false));
    }

    [Fact]
    public void Seq_no_higher_than_a_later_message_is_33()
    {
        var w = new ReceivedMsgWindow();
        w.TryAdd(100, 2);
        w.TryAdd(200, 10);
        Assert.Equal(MsgIdCheck.SeqNoTooHigh, w.TryAdd(150, 11)); // lower msg_id than 200 but higher seq
        Assert.Equal(MsgIdCheck.SeqNoTooLow, w.TryAdd(150, 1)); // below its lower neighbour
        Assert.Equal(MsgIdCheck.New, w.TryAdd(160, 5)); // a late message that fits between 100 and 200
        Assert.Equal(MsgIdCheck.SeqNoTooHigh, w.Check(170, 11));
        Assert.Equal(BadMsgCode.SeqNoTooHigh, w.Check(170, 11).ToBadMsgCode(false));
        Assert.Equal(MsgIdCheck.SeqNoTooHigh, w.Check(150, 10)); // its higher neighbour is now 160 with 5
        Assert.Equal(MsgIdCheck.New, w.Check(150, 4));
        Assert.Equal(MsgIdCheck.New, w.Check(180, 10)); // even and equal to the higher neighbour's 10
        // Odd and equal to the higher neighbour is too high (they would share a content-related number).
        var w2 = new ReceivedMsgWindow();
        w2.TryAdd(200, 7);
        Assert.Equal(MsgIdCheck.SeqNoTooHigh, w2.TryAdd(100, 7));
        Assert.Equal(MsgIdCheck.New, w2.TryAdd(100, 6));
    }

    [Fact]
    public void Refused_messages_leave_the_window_unchanged()
    {
        var w = new ReceivedMsgWindow(4);
        w.TryAdd(100, 3);
        var before = w.ToState();
        w.TryAdd(104, 1);
        w.TryAdd(100, 3);
        var after = w.ToState();
        Assert.Equal(before.MsgIds, after.MsgIds);
        Assert.Equal(before.SeqNos, after.SeqNos);
    }

    [Fact]
    public void The_floor_takes_part_in_the_seq_no_order()
    {
        var w = new ReceivedMsgWindow(2);
        w.TryAdd(100, 1);
        w.TryAdd(104, 3);
        w.TryAdd(108, 5); // evicts 100 (seq 1)
        Assert.Equal(100, w.FloorMsgId);
        var restored = ReceivedMsgWindow.FromState(new ReceivedMsgWindowState(108, 5, [], []), 8);
        Assert.Equal(MsgIdCheck.TooOld, restored.TryAdd(104, 3));
        Assert.Equal(MsgIdCheck.SeqNoTooLow, restored.TryAdd(112, 5)); // the floor message was odd 5
        Assert.Equal(MsgIdCheck.New, restored.TryAdd(112, 6));
    }

    [Fact]
    public void Duplicate_container_is_19_duplicate_query_is_not_an_error()
    {
        Assert.Equal(BadMsgCode.ContainerMsgIdDuplicate, MsgIdCheck.Duplicate.ToBadMsgCode(isContainer: true));
        Assert.Equal(BadMsgCode.None, MsgIdCheck.Duplicate.ToBadMsgCode(isContainer: false));
        Assert.Equal(BadMsgCode.MsgIdTooOld, MsgIdCheck.TooOld.ToBadMsgCode(isContainer: true));
        Assert.Equal(BadMsgCode.None, MsgIdCheck.New.ToBadMsgCode(isContainer: true));
    }

    [Fact]
    public void State_round_trips_through_plain_arrays()
    {
        var w = new ReceivedMsgWindow(16);
        var random = new Random(5);
        long id = 1000;
        int seq = 0;
        for (int i = 0; i < 40; i++)
        {
            id += 4 * random.Next(1, 10);
            bool cr = random.Next(2) == 0;
            Assert.Equal(MsgIdCheck.New, w.TryAdd(id, cr ? seq * 2 + 1 : seq * 2));
            if (cr) seq++;
        }
        var state = w.ToState();
        Assert.Equal(16, state.MsgIds.Length);
        Assert.True(state.MsgIds.SequenceEqual(state.MsgIds.Order()));
        var copy = ReceivedMsgWindow.FromState(state, 16);
        var again = copy.ToState();
        Assert.Equal(state.FloorMsgId, again.FloorMsgId);
        Assert.Equal(state.FloorSeqNo, again.FloorSeqNo);
        Assert.Equal(state.MsgIds, again.MsgIds);
        Assert.Equal(state.SeqNos, again.SeqNos);
        foreach (long known in state.MsgIds) Assert.Equal(MsgIdCheck.Duplicate, copy.Check(known, 0));
        Assert.Equal(MsgIdCheck.TooOld, copy.Check(state.FloorMsgId, 0));
    }

    [Fact]
    public void Restoring_into_a_smaller_window_raises_the_floor()
    {
        var state = new ReceivedMsgWindowState(0, 0, [400, 100, 300, 200, 300], [4, 1, 3, 2, 3]);
        var w = ReceivedMsgWindow.FromState(state, 2);
        var s = w.ToState();
        Assert.Equal(new long[] { 300, 400 }, s.MsgIds);
        Assert.Equal(new[] { 3, 4 }, s.SeqNos);
        Assert.Equal(200, s.FloorMsgId);
        Assert.Equal(2, s.FloorSeqNo);
        Assert.Equal(MsgIdCheck.TooOld, w.Check(100, 1));
        Assert.Throws<ArgumentException>(() => ReceivedMsgWindow.FromState(new ReceivedMsgWindowState(0, 0, [1], []), 2));
    }

    [Fact]
    public void Property_matches_a_naive_model()
    {
        // Random arrivals (mostly increasing, some late, some repeated) against a brute-force model of the rules.
        var random = new Random(424242);
        // The window's arrays grow as it fills (8, 16, ... up to the capacity): small and large capacities, and a
        // round trip through the persisted state now and then (a restored window sizes its arrays anew).
        for (int round = 0; round < 40; round++)
        {
            int capacity = round % 4 == 3 ? random.Next(100, 300) : random.Next(1, 40);
            var w = new ReceivedMsgWindow(capacity);
            var remembered = new SortedDictionary<long, int>();
            long floor = 0;
            int floorSeq = 0;
            for (int step = 0; step < 400; step++)
            {
                long id = 4L * random.Next(1, 300);
                int seq = random.Next(0, 80);
                MsgIdCheck expected;
                if (remembered.ContainsKey(id)) expected = MsgIdCheck.Duplicate;
                else if (id <= floor || (remembered.Count == capacity && id < remembered.Keys.First())) expected = MsgIdCheck.TooOld;
                else
                {
                    bool odd = (seq & 1) != 0;
                    var all = remembered.Select(kv => (kv.Key, kv.Value)).ToList();
                    if (floor != 0) all.Add((floor, floorSeq));
                    bool low = all.Any(m => m.Key < id && (m.Value > seq || (m.Value == seq && odd)));
                    bool high = all.Any(m => m.Key > id && (m.Value < seq || (m.Value == seq && odd)));
                    expected = low ? MsgIdCheck.SeqNoTooLow : high ? MsgIdCheck.SeqNoTooHigh : MsgIdCheck.New;
                }
                var actual = w.TryAdd(id, seq);
                Assert.Equal(expected, actual);
                if (actual == MsgIdCheck.New)
                {
                    remembered[id] = seq;
                    if (remembered.Count > capacity)
                    {
                        var lowest = remembered.First();
                        floor = lowest.Key;
                        floorSeq = lowest.Value;
                        remembered.Remove(lowest.Key);
                    }
                }
                Assert.Equal(remembered.Keys, w.ToState().MsgIds);
                if (step % 50 == 49) w = ReceivedMsgWindow.FromState(w.ToState(), capacity);
            }
        }
    }

    [Fact]
    public void Increasing_ids_cost_constant_time()
    {
        var w = new ReceivedMsgWindow();
        long id = 0x65ABC0FC00000000;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 1_000_000; i++)
        {
            id += 4;
            if (w.TryAdd(id, 2 * i + 1) != MsgIdCheck.New) Assert.Fail($"step {i}");
        }
        Assert.Equal(w.Capacity, w.Count);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), sw.Elapsed.ToString());
    }
}
