using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Messages;

/// <summary>
/// The code-64 rules for a received msg_container (spec.md §4.1). A container is accepted or refused as a whole.
/// </summary>
public static class ContainerRules
{
    /// <summary>
    /// Validates a received container: <paramref name="body"/> is the whole message body (starting with the
    /// msg_container id), <paramref name="containerMsgId"/> / <paramref name="containerSeqNo"/> come from the
    /// message header. Returns <see cref="BadMsgCode.InvalidContainer"/> when the container is malformed (bad
    /// item length: negative, not a multiple of 4, under 4 or past the end; a count that does not fit; bytes
    /// left after the last item), holds more than <see cref="MsgContainer.MaxItems"/> items, nests a
    /// msg_container or msg_copy, has an item msg_id &gt;= the container's, an item msg_id not divisible by 4,
    /// or an item seq_no &gt; the container's; else <see cref="BadMsgCode.None"/>.
    /// </summary>
    /// <remarks>
    /// Not checked here: a duplicate container msg_id (19) and the items' replay and order
    /// (<see cref="ReceivedMsgWindow"/>), and a container hidden inside an item's gzip_packed or wrappers —
    /// treat one found after <see cref="ApiWrappers.TryUnwrap"/> of an item as 64 too.
    /// </remarks>
    public static BadMsgCode Validate(long containerMsgId, int containerSeqNo, ReadOnlySpan<byte> body)
    {
        var r = new TlReader(body);
        if (!MsgContainer.TryReadHeader(ref r, out int count)) return BadMsgCode.InvalidContainer;
        for (int i = 0; i < count; i++)
        {
            if (!MsgContainer.TryReadItem(ref r, out var item)) return BadMsgCode.InvalidContainer;
            if (item.MsgId >= containerMsgId || (item.MsgId & 3) != 0 || item.SeqNo > containerSeqNo)
            {
                return BadMsgCode.InvalidContainer;
            }
            uint id = item.BodyConstructorId;
            if (id is ConstructorIds.MsgContainer or ConstructorIds.MsgCopy) return BadMsgCode.InvalidContainer;
        }
        return r.AtEnd ? BadMsgCode.None : BadMsgCode.InvalidContainer;
    }
}
