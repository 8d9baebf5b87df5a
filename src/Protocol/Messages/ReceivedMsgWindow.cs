namespace MtActors.Protocol.Messages;

/// <summary>What <see cref="ReceivedMsgWindow.Check"/> found for a received (msg_id, seq_no).</summary>
public enum MsgIdCheck
{
    /// <summary>Not seen before and consistent with what was received: process it.</summary>
    New,

    /// <summary>
    /// The msg_id was received before: do not process it again (re-send the answer or msg_detailed_info
    /// for a query; bad_msg 19 for a container, see <see cref="MsgIdCheckExtensions.ToBadMsgCode"/>).
    /// </summary>
    Duplicate,

    /// <summary>Too old to tell whether it was received (bad_msg 20).</summary>
    TooOld,

    /// <summary>seq_no lower than that of an earlier message with a lower msg_id (bad_msg 32).</summary>
    SeqNoTooLow,

    /// <summary>seq_no higher than that of an earlier message with a higher msg_id (bad_msg 33).</summary>
    SeqNoTooHigh,
}

/// <summary>Maps <see cref="MsgIdCheck"/> to the bad_msg code to send.</summary>
public static class MsgIdCheckExtensions
{
    /// <summary>
    /// The bad_msg_notification code for a check result: 20, 32, 33; for a duplicate, 19 when the message is a
    /// container and <see cref="BadMsgCode.None"/> otherwise (a duplicate query is answered, not refused).
    /// </summary>
    public static BadMsgCode ToBadMsgCode(this MsgIdCheck check, bool isContainer) => check switch
    {
        MsgIdCheck.Duplicate => isContainer ? BadMsgCode.ContainerMsgIdDuplicate : BadMsgCode.None,
        MsgIdCheck.TooOld => BadMsgCode.MsgIdTooOld,
        MsgIdCheck.SeqNoTooLow => BadMsgCode.SeqNoTooLow,
        MsgIdCheck.SeqNoTooHigh => BadMsgCode.SeqNoTooHigh,
        _ => BadMsgCode.None,
    };
}

/// <summary>
/// The persisted form of a <see cref="ReceivedMsgWindow"/>: plain values a grain can store.
/// <see cref="MsgIds"/> is ascending and <see cref="SeqNos"/> parallel to it.
/// </summary>
public sealed record ReceivedMsgWindowState(long FloorMsgId, int FloorSeqNo, long[] MsgIds, int[] SeqNos);

/// <summary>
/// The replay and ordering window of one session (spec.md §2.1, §2.2): the last <see cref="Capacity"/>
/// received msg_ids with their seq_nos, kept sorted in a ring buffer, plus a floor (the highest msg_id that
/// was received but is no longer remembered).
/// </summary>
/// <remarks>
/// <para>Replay: a msg_id equal to a remembered one is a <see cref="MsgIdCheck.Duplicate"/>; one at or below the
/// floor, or below the lowest remembered id while the window is full, is <see cref="MsgIdCheck.TooOld"/>.
/// Evicting the lowest id raises the floor to it, so an evicted id can never be accepted again.</para>
/// <para>seq_no order (32/33): a sender numbers its messages as it creates them, so ordered by msg_id the
/// seq_nos never decrease, and they strictly increase after a content-related (odd) one: for received
/// messages A, B with msg_id(A) &lt; msg_id(B), seq(A) &lt;= seq(B), and seq(A) &lt; seq(B) when A is odd (two
/// odd messages never share a seq_no). A new message is checked against its neighbours by msg_id among the
/// remembered ones (the floor counts as the lowest): a violation with the lower neighbour is 32 (too low),
/// with the higher neighbour 33 (too high). As the remembered set is always consistent, checking the two
/// neighbours is equivalent to checking all of them. Gaps are allowed (refused messages consume numbers) and
/// the first message of a session may have any seq_no. Register every accepted message, container items and
/// the container itself alike; a container is even and comes after its items, so it fits the same order.</para>
/// <para>Cost: O(log n) lookup; inserting is O(1) for the usual increasing msg_ids and O(distance from the
/// top) for a late one. Memory: the arrays grow with the remembered ids (doubling, up to the capacity), so a session
/// that received a few messages holds a few entries, not the whole window. Not thread-safe (one grain activation owns
/// it).</para>
/// </remarks>
public sealed class ReceivedMsgWindow
{
    /// <summary>The default number of remembered msg_ids per session.</summary>
    public const int DefaultCapacity = 1024;

    private const int FirstArrayLength = 8;
    private readonly int _capacity;
    private long[] _ids = []; // a ring of _ids.Length entries (<= _capacity), the lowest at _head
    private int[] _seqNos = [];
    private int _head;
    private int _count;
    private long _floorMsgId;
    private int _floorSeqNo;

    public ReceivedMsgWindow(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    public int Capacity => _capacity;
    public int Count => _count;

    /// <summary>The highest msg_id known to be received but no longer remembered (0 = none).</summary>
    public long FloorMsgId => _floorMsgId;

    /// <summary>The lowest remembered msg_id, or 0 when empty.</summary>
    public long Lowest => _count == 0 ? 0 : _ids[_head];

    /// <summary>The highest remembered msg_id, or the floor when empty.</summary>
    public long Highest => _count == 0 ? _floorMsgId : IdAt(_count - 1);

    private int Physical(int logical)
    {
        int p = _head + logical;
        return p >= _ids.Length ? p - _ids.Length : p;
    }

    private long IdAt(int logical) => _ids[Physical(logical)];

    /// <summary>Binary search: the logical index of <paramref name="msgId"/>, or ~(insertion index).</summary>
    private int Find(long msgId)
    {
        int lo = 0, hi = _count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long v = IdAt(mid);
            if (v == msgId) return mid;
            if (v < msgId) lo = mid + 1;
            else hi = mid - 1;
        }
        return ~lo;
    }

    /// <summary>Whether <paramref name="msgId"/> is remembered.</summary>
    public bool Contains(long msgId) => Find(msgId) >= 0;

    /// <summary>The seq_no <paramref name="msgId"/> was received with, when it is remembered.</summary>
    public bool TryGetSeqNo(long msgId, out int seqNo)
    {
        int index = Find(msgId);
        seqNo = index >= 0 ? _seqNos[Physical(index)] : 0;
        return index >= 0;
    }

    /// <summary>Checks a received message without registering it.</summary>
    public MsgIdCheck Check(long msgId, int seqNo) => Check(msgId, seqNo, out _);

    private MsgIdCheck Check(long msgId, int seqNo, out int insertAt)
    {
        int index = Find(msgId);
        insertAt = ~index;
        if (index >= 0) return MsgIdCheck.Duplicate;
        if (msgId <= _floorMsgId) return MsgIdCheck.TooOld;
        if (_count == _capacity && insertAt == 0) return MsgIdCheck.TooOld;

        bool odd = (seqNo & 1) != 0;
        // Lower neighbour: the remembered message just below, or the floor message.
        bool hasLower = insertAt > 0 || _floorMsgId != 0;
        if (hasLower)
        {
            int lower = insertAt > 0 ? _seqNos[Physical(insertAt - 1)] : _floorSeqNo;
            if (seqNo < lower || (seqNo == lower && odd)) return MsgIdCheck.SeqNoTooLow;
        }
        if (insertAt < _count)
        {
            int higher = _seqNos[Physical(insertAt)];
            if (seqNo > higher || (seqNo == higher && odd)) return MsgIdCheck.SeqNoTooHigh;
        }
        return MsgIdCheck.New;
    }

    /// <summary>
    /// Checks a received message and registers it when the result is <see cref="MsgIdCheck.New"/>; anything else
    /// leaves the window unchanged. When full, registering evicts the lowest id into the floor.
    /// </summary>
    public MsgIdCheck TryAdd(long msgId, int seqNo)
    {
        var result = Check(msgId, seqNo, out int insertAt);
        if (result != MsgIdCheck.New) return result;
        if (_count == _ids.Length && _count < _capacity)
        {
            Resize(Math.Min(_capacity, Math.Max(FirstArrayLength, 2 * _ids.Length)));
        }
        if (_count == _capacity)
        {
            _floorMsgId = _ids[_head];
            _floorSeqNo = _seqNos[_head];
            _head = Physical(1);
            _count--;
            insertAt--;
        }
        // Shift the entries above the insertion point up by one (none for an increasing msg_id).
        for (int i = _count; i > insertAt; i--)
        {
            int to = Physical(i), from = Physical(i - 1);
            _ids[to] = _ids[from];
            _seqNos[to] = _seqNos[from];
        }
        int at = Physical(insertAt);
        _ids[at] = msgId;
        _seqNos[at] = seqNo;
        _count++;
        return MsgIdCheck.New;
    }

    /// <summary>Moves the entries, lowest first, into arrays of <paramref name="length"/> (at least <see cref="Count"/>).</summary>
    private void Resize(int length)
    {
        (_ids, _seqNos) = CopyInOrder(length);
        _head = 0;
    }

    /// <summary>The window as plain arrays for persistence.</summary>
    public ReceivedMsgWindowState ToState()
    {
        var (ids, seqNos) = CopyInOrder(_count);
        return new ReceivedMsgWindowState(_floorMsgId, _floorSeqNo, ids, seqNos);
    }

    /// <summary>The remembered entries, lowest first, at the start of new arrays of <paramref name="length"/>.</summary>
    private (long[] Ids, int[] SeqNos) CopyInOrder(int length)
    {
        var ids = new long[length];
        var seqNos = new int[length];
        for (int i = 0; i < _count; i++)
        {
            int p = Physical(i);
            ids[i] = _ids[p];
            seqNos[i] = _seqNos[p];
        }
        return (ids, seqNos);
    }

    /// <summary>
    /// Rebuilds a window from <see cref="ToState"/>. Entries are re-sorted; duplicates, entries at or below the
    /// floor and the lowest entries beyond <paramref name="capacity"/> are dropped (the floor rises to cover
    /// the dropped ones), so a state from another capacity, or hand-made (e.g. only a floor), is safe.
    /// </summary>
    public static ReceivedMsgWindow FromState(ReceivedMsgWindowState state, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.MsgIds.Length != state.SeqNos.Length) throw new ArgumentException("MsgIds and SeqNos differ in length.", nameof(state));
        var window = new ReceivedMsgWindow(capacity)
        {
            _floorMsgId = state.FloorMsgId,
            _floorSeqNo = state.FloorSeqNo,
        };
        var order = new int[state.MsgIds.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => state.MsgIds[a].CompareTo(state.MsgIds[b]));
        int start = 0;
        while (start < order.Length && state.MsgIds[order[start]] <= state.FloorMsgId) start++;
        // Count the distinct ids and drop the lowest ones beyond capacity into the floor.
        var kept = new List<int>(order.Length - start);
        for (int i = start; i < order.Length; i++)
        {
            if (kept.Count > 0 && state.MsgIds[kept[^1]] == state.MsgIds[order[i]]) continue;
            kept.Add(order[i]);
        }
        int skip = Math.Max(0, kept.Count - capacity);
        if (kept.Count > skip) window.Resize(Math.Min(capacity, Math.Max(FirstArrayLength, kept.Count - skip)));
        if (skip > 0)
        {
            window._floorMsgId = state.MsgIds[kept[skip - 1]];
            window._floorSeqNo = state.SeqNos[kept[skip - 1]];
        }
        for (int i = skip; i < kept.Count; i++)
        {
            window._ids[window._count] = state.MsgIds[kept[i]];
            window._seqNos[window._count] = state.SeqNos[kept[i]];
            window._count++;
        }
        return window;
    }
}
