namespace MtActors.Protocol.Messages;

/// <summary>
/// error_code of bad_msg_notification (spec.md §4.1). The offending message is not processed; the client
/// re-sends it. A suggested order of checks for one received message (the spec fixes none):
/// salt (48, decided by the session) → <see cref="MsgIdRules.Check(long, long)"/> on the top-level msg_id
/// (16/17/18) → <see cref="ContainerRules.Validate"/> when the body is a container (64) →
/// <see cref="ReceivedMsgWindow.Check"/> for the message and for each container item (19/20/32/33, duplicates)
/// → <see cref="SeqNoRules.CheckParity"/> on the unwrapped body (34/35).
/// </summary>
public enum BadMsgCode
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>16: msg_id more than <see cref="MsgIdRules.MaxPastSeconds"/> s behind server time (client clock behind).</summary>
    MsgIdTooLow = 16,

    /// <summary>17: msg_id more than <see cref="MsgIdRules.MaxFutureSeconds"/> s ahead of server time (client clock ahead).</summary>
    MsgIdTooHigh = 17,

    /// <summary>18: a client msg_id that is not divisible by 4.</summary>
    MsgIdNotDivisibleBy4 = 18,

    /// <summary>19: a container whose msg_id equals the msg_id of a message received earlier.</summary>
    ContainerMsgIdDuplicate = 19,

    /// <summary>
    /// 20: the message is too old to tell whether it was received: its msg_id is below every remembered
    /// msg_id of a full <see cref="ReceivedMsgWindow"/>, or at or below the window's floor.
    /// </summary>
    MsgIdTooOld = 20,

    /// <summary>
    /// 32: seq_no too low: a message received earlier has a lower msg_id but a higher seq_no, or the same
    /// seq_no while both are content-related (odd).
    /// </summary>
    SeqNoTooLow = 32,

    /// <summary>
    /// 33: seq_no too high: a message received earlier has a higher msg_id but a lower seq_no, or the same
    /// seq_no while both are content-related (odd).
    /// </summary>
    SeqNoTooHigh = 33,

    /// <summary>34: an even seq_no was expected (msgs_ack, msg_container, msg_copy, gzip_packed) but it is odd.</summary>
    SeqNoEvenExpected = 34,

    /// <summary>35: an odd seq_no was expected (an API query) but it is even.</summary>
    SeqNoOddExpected = 35,

    /// <summary>48: wrong or expired server salt; sent as bad_server_salt carrying the right salt.</summary>
    BadServerSalt = 48,

    /// <summary>
    /// 64: invalid container (<see cref="ContainerRules.Validate"/>): malformed, more than 1024 items, nested,
    /// an inner msg_id not below the container's, an inner seq_no above the container's.
    /// </summary>
    InvalidContainer = 64,
}
