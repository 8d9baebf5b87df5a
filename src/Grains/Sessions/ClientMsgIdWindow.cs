using MtActors.Protocol.Messages;

namespace MtActors.Grains.Sessions;

/// <summary>
/// Replay and duplicate protection for the client's msg_ids of one session (spec 2.1):
/// parity (18), the time window of 300 s back / 30 s ahead (16 / 17), the remembered recent ids
/// (duplicates), and the "unknown" zone at or below <see cref="UnknownUpTo"/> (20): ids the session
/// can no longer tell apart, because they were pushed out of the window or because a crashed
/// activation may have accepted them without writing them down (its reservation).
/// Pure: no I/O, the clock comes in as an argument.
/// </summary>
public sealed class ClientMsgIdWindow
{
    public const int PastSeconds = 300;
    public const int FutureSeconds = 30;

    private readonly List<long> _recent; // ascending
    private readonly int _capacity;

    public ClientMsgIdWindow(int capacity, IEnumerable<long> recent, long highWater, long unknownUpTo)
    {
        _capacity = capacity;
        _recent = new List<long>(recent);
        _recent.Sort();
        while (_recent.Count > _capacity) Evict();
        HighWater = highWater;
        UnknownUpTo = unknownUpTo;
    }

    /// <summary>Greatest accepted msg_id (0 if none).</summary>
    public long HighWater { get; private set; }

    /// <summary>Ids at or below this that are not remembered get 20.</summary>
    public long UnknownUpTo { get; private set; }

    public IReadOnlyList<long> Recent => _recent;

    /// <summary>Checks one msg_id and, when it is new, remembers it.</summary>
    public MessageVerdict Accept(long msgId, DateTimeOffset now)
    {
        if ((msgId & 3) != 0) return MessageVerdict.MsgIdInvalid;
        if (msgId < MsgIds.FromTime(now.AddSeconds(-PastSeconds))) return MessageVerdict.MsgIdTooLow;
        if (msgId > MsgIds.FromTime(now.AddSeconds(FutureSeconds))) return MessageVerdict.MsgIdTooHigh;
        int index = _recent.BinarySearch(msgId);
        if (index >= 0) return MessageVerdict.Duplicate;
        if (msgId <= UnknownUpTo) return MessageVerdict.MsgIdTooOldToTell;

        _recent.Insert(~index, msgId);
        if (msgId > HighWater) HighWater = msgId;
        Prune(now);
        return MessageVerdict.Accepted;
    }

    /// <summary>Marks everything at or below <paramref name="upTo"/> that is not remembered as unknown.</summary>
    public void ForgetUpTo(long upTo)
    {
        if (upTo > UnknownUpTo) UnknownUpTo = upTo;
    }

    private void Prune(DateTimeOffset now)
    {
        // Ids older than the 300 s window are rejected by time anyway: no need to remember them.
        long oldest = MsgIds.FromTime(now.AddSeconds(-PastSeconds));
        int stale = 0;
        while (stale < _recent.Count && _recent[stale] < oldest) stale++;
        if (stale > 0) _recent.RemoveRange(0, stale);
        while (_recent.Count > _capacity) Evict();
    }

    private void Evict()
    {
        if (_recent[0] > UnknownUpTo) UnknownUpTo = _recent[0];
        _recent.RemoveAt(0);
    }
}
