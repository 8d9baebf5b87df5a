using MtActors.Protocol.Messages;

namespace MtActors.Grains.Sessions;

/// <summary>
/// Replay and duplicate protection for the client's msg_ids of one session: the protocol rules of
/// <see cref="MsgIdRules"/> (16/17/18) and <see cref="ReceivedMsgWindow"/> (duplicates, 20, 32/33), plus
/// the session's "unknown zone": ids at or below <see cref="UnknownUpTo"/> that are not remembered are
/// too old to tell (20), because a crashed activation may have accepted them without writing them down
/// (its replay reservation, see docs/persistence.md). Remembered ids stay duplicates.
/// Pure: no I/O, the clock comes in as an argument.
/// </summary>
public sealed class ClientMsgIdWindow
{
    private readonly ReceivedMsgWindow _window;

    public ClientMsgIdWindow(int capacity) => _window = new ReceivedMsgWindow(capacity);

    private ClientMsgIdWindow(ReceivedMsgWindow window, long highWater, long unknownUpTo)
    {
        _window = window;
        HighWater = highWater;
        UnknownUpTo = unknownUpTo;
    }

    public static ClientMsgIdWindow FromState(ReceivedMsgWindowState state, int capacity, long highWater, long unknownUpTo) =>
        new(ReceivedMsgWindow.FromState(state, capacity), highWater, unknownUpTo);

    /// <summary>Greatest accepted msg_id (0 if none).</summary>
    public long HighWater { get; private set; }

    /// <summary>Ids at or below this that are not remembered get 20.</summary>
    public long UnknownUpTo { get; private set; }

    public ReceivedMsgWindowState ToState() => _window.ToState();

    /// <summary>
    /// Checks one msg_id and remembers it when it is new. <paramref name="topLevel"/>: the time window
    /// applies to the top-level message only (items of a container are covered by the container's msg_id;
    /// tdlib re-sends an aged query in a fresh container with its original msg_id).
    /// </summary>
    public MessageVerdict Accept(long msgId, int seqNo, bool topLevel, DateTimeOffset now)
    {
        BadMsgCode code = topLevel ? MsgIdRules.Check(msgId, now) : MsgIdRules.CheckModulo(msgId);
        if (code != BadMsgCode.None) return (MessageVerdict)(int)code;
        if (msgId <= UnknownUpTo && !_window.Contains(msgId)) return MessageVerdict.MsgIdTooOldToTell;
        MsgIdCheck check = _window.TryAdd(msgId, seqNo);
        if (check == MsgIdCheck.New && msgId > HighWater) HighWater = msgId;
        return check switch
        {
            MsgIdCheck.New => MessageVerdict.Accepted,
            MsgIdCheck.Duplicate => MessageVerdict.Duplicate,
            MsgIdCheck.TooOld => MessageVerdict.MsgIdTooOldToTell,
            MsgIdCheck.SeqNoTooLow => MessageVerdict.SeqNoTooLow,
            MsgIdCheck.SeqNoTooHigh => MessageVerdict.SeqNoTooHigh,
            _ => throw new InvalidOperationException($"unexpected {check}"),
        };
    }

    /// <summary>
    /// Checks one (msg_id, seq_no) against the remembered messages without registering it: duplicates, too old
    /// to tell (20: below the window or in the unknown zone), seq_no order (32/33). The time window and the
    /// msg_id % 4 rule are <see cref="MsgIdRules"/>' job.
    /// </summary>
    public MsgIdCheck Check(long msgId, int seqNo)
    {
        if (msgId <= UnknownUpTo && !_window.Contains(msgId)) return MsgIdCheck.TooOld;
        return _window.Check(msgId, seqNo);
    }

    /// <summary>Registers a message <see cref="Check"/> found <see cref="MsgIdCheck.New"/>.</summary>
    public void Add(long msgId, int seqNo)
    {
        if (_window.TryAdd(msgId, seqNo) == MsgIdCheck.New && msgId > HighWater) HighWater = msgId;
    }

    /// <summary>Whether <paramref name="msgId"/> was received and is still remembered (its seq_no in <paramref name="seqNo"/>).</summary>
    public bool TryGetReceived(long msgId, out int seqNo) => _window.TryGetSeqNo(msgId, out seqNo);

    /// <summary>
    /// msgs_state_info's base status of a client msg_id that is not remembered: 1 when nothing can be known
    /// (at or below the floor or the unknown zone, or below a full window), 2 when it lies among the received
    /// ids (certainly not received), 3 when it is above every received id.
    /// </summary>
    public byte NotReceivedStatus(long msgId)
    {
        if (msgId <= UnknownUpTo || msgId <= _window.FloorMsgId || (_window.Count == _window.Capacity && msgId < _window.Lowest)) return 1;
        return msgId < HighWater ? (byte)2 : (byte)3;
    }

    /// <summary>Marks everything at or below <paramref name="upTo"/> that is not remembered as unknown.</summary>
    public void ForgetUpTo(long upTo)
    {
        if (upTo > UnknownUpTo) UnknownUpTo = upTo;
    }
}
