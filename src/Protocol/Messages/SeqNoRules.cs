using MtActors.Protocol.Schema;

namespace MtActors.Protocol.Messages;

/// <summary>
/// seq_no parity and generation (spec.md §2.2, §2.3). Ordering against earlier messages (32/33) is
/// <see cref="ReceivedMsgWindow"/>'s job.
/// </summary>
public static class SeqNoRules
{
    /// <summary>Whether a seq_no marks its message content-related (odd).</summary>
    public static bool IsContentRelated(int seqNo) => (seqNo & 1) != 0;

    /// <summary>
    /// 34 when an even seq_no is required but it is odd, 35 when an odd one is required but it is even,
    /// else <see cref="BadMsgCode.None"/>. Take <paramref name="expected"/> from
    /// <see cref="ContentRelation.ExpectedFromClient"/> of the unwrapped body (MTProto service calls are
    /// <see cref="SeqNoParity.Either"/>).
    /// </summary>
    public static BadMsgCode CheckParity(int seqNo, SeqNoParity expected) => expected switch
    {
        SeqNoParity.Even when IsContentRelated(seqNo) => BadMsgCode.SeqNoEvenExpected,
        SeqNoParity.Odd when !IsContentRelated(seqNo) => BadMsgCode.SeqNoOddExpected,
        _ => BadMsgCode.None,
    };

    /// <summary><see cref="CheckParity(int, SeqNoParity)"/> for a client message whose unwrapped body has this constructor id.</summary>
    public static BadMsgCode CheckClientParity(int seqNo, uint unwrappedConstructorId) =>
        CheckParity(seqNo, ContentRelation.ExpectedFromClient(unwrappedConstructorId));

    /// <summary>
    /// The seq_no of the next message the server sends: with c = <paramref name="contentRelatedSent"/> (the
    /// number of content-related messages sent so far in the session), 2c + 1 for a content-related message
    /// (and c is incremented), 2c otherwise. Number a container after its items.
    /// </summary>
    public static int NextServerSeqNo(ref int contentRelatedSent, bool contentRelated)
    {
        int seqNo = contentRelatedSent * 2;
        if (!contentRelated) return seqNo;
        contentRelatedSent++;
        return seqNo + 1;
    }
}
