namespace MtActors.Grains.Sessions;

/// <summary>
/// The session's unacknowledged content-related messages (rpc_result, new_session_created), by msg_id, bounded
/// by count and bytes: past a bound the oldest are forgotten (the client can still learn their fate through
/// msgs_state_req, and a duplicated query then gets msg_detailed_info instead of the answer).
/// </summary>
internal sealed class Outbox(int maxCount, long maxBytes)
{
    private readonly SortedDictionary<long, UnackedMessage> _messages = [];

    public int Count => _messages.Count;
    public long Bytes { get; private set; }

    /// <summary>Every message, oldest first.</summary>
    public IEnumerable<UnackedMessage> All => _messages.Values;

    public void Add(UnackedMessage message)
    {
        if (!_messages.TryAdd(message.MsgId, message)) return;
        Bytes += message.Body.Length;
        while (_messages.Count > 1 && (_messages.Count > maxCount || Bytes > maxBytes))
        {
            long oldest = _messages.Keys.First();
            Remove(oldest, out _);
        }
    }

    public bool TryGet(long msgId, out UnackedMessage message) => _messages.TryGetValue(msgId, out message!);

    public bool Remove(long msgId, out UnackedMessage message)
    {
        if (!_messages.Remove(msgId, out message!)) return false;
        Bytes -= message.Body.Length;
        return true;
    }

    public void Clear()
    {
        _messages.Clear();
        Bytes = 0;
    }
}
