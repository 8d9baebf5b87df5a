namespace MtActors.Protocol.Messages;

/// <summary>
/// Validation of a client msg_id against server time (spec.md §2.1). Times are compared in msg_id units
/// (seconds &lt;&lt; 32 | fraction), so the window edges are exact: a msg_id exactly 300 s behind or exactly
/// 30 s ahead of the server's current msg_id is accepted, one unit further is not.
/// </summary>
/// <remarks>
/// Apply it to the msg_id of the top-level message only. Items of a container are covered by the container's
/// msg_id: tdlib re-sends a query whose msg_id has aged out of this window inside a fresh container, with
/// the query's original msg_id and seq_no. The items still go through <see cref="ReceivedMsgWindow"/>
/// and <see cref="ContainerRules"/> (which checks their msg_id % 4).
/// </remarks>
public static class MsgIdRules
{
    /// <summary>How far a client msg_id may lag behind server time.</summary>
    public const int MaxPastSeconds = 300;

    /// <summary>How far a client msg_id may run ahead of server time.</summary>
    public const int MaxFutureSeconds = 30;

    private const long MaxPast = (long)MaxPastSeconds << 32;
    private const long MaxFuture = (long)MaxFutureSeconds << 32;

    /// <summary>
    /// 16 when <paramref name="msgId"/> is more than 300 s behind <paramref name="serverNowMsgId"/>, 17 when more
    /// than 30 s ahead, else 18 when it is not divisible by 4, else <see cref="BadMsgCode.None"/>. The time
    /// checks come first: their notifications carry the server time the client needs to fix its clock.
    /// </summary>
    public static BadMsgCode Check(long msgId, long serverNowMsgId)
    {
        if (msgId < serverNowMsgId - MaxPast) return BadMsgCode.MsgIdTooLow;
        if (msgId > serverNowMsgId + MaxFuture) return BadMsgCode.MsgIdTooHigh;
        return CheckModulo(msgId);
    }

    /// <summary><see cref="Check(long, long)"/> against the msg_id of <paramref name="now"/>.</summary>
    public static BadMsgCode Check(long msgId, DateTimeOffset now) => Check(msgId, MsgIds.FromTime(now));

    /// <summary>18 when a client msg_id is not divisible by 4.</summary>
    public static BadMsgCode CheckModulo(long msgId) => (msgId & 3) == 0 ? BadMsgCode.None : BadMsgCode.MsgIdNotDivisibleBy4;
}
