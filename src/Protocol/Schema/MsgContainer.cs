using System.Collections.Immutable;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Schema;

/// <summary>
/// One %Message of a container as slices of the input: <c>msg_id:long seqno:int bytes:int body:Object</c>,
/// where <see cref="Body"/> is exactly <c>bytes</c> long.
/// </summary>
public readonly ref struct ContainerItem(long msgId, int seqNo, ReadOnlySpan<byte> body)
{
    public long MsgId { get; } = msgId;
    public int SeqNo { get; } = seqNo;
    public ReadOnlySpan<byte> Body { get; } = body;

    /// <summary>The constructor id the body starts with.</summary>
    public uint BodyConstructorId => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(Body);
}

/// <summary>A message held by value (inside <see cref="MsgContainer"/> or <see cref="MsgCopy"/>).</summary>
public sealed record ContainerMessage(long MsgId, int SeqNo, ImmutableArray<byte> Body)
{
    /// <summary>The serialized size of the bare %Message header (msg_id, seqno, bytes).</summary>
    public const int HeaderSize = 16;

    public void WriteBare(TlWriter writer) => MsgContainer.WriteItem(writer, MsgId, SeqNo, Body.AsSpan());

    public bool Equals(ContainerMessage? other) =>
        other is not null && MsgId == other.MsgId && SeqNo == other.SeqNo && Seq.Equal(Body, other.Body);
    public override int GetHashCode() => HashCode.Combine(MsgId, SeqNo, Seq.Hash(Body));
}

/// <summary>
/// msg_container#73f1f8dc messages:vector&lt;%Message&gt; — a bare vector (count, then items) of bare
/// messages. At most <see cref="MaxItems"/> items. Hot paths use <see cref="TryReadHeader"/> and
/// <see cref="TryReadItem"/> over slices; the record form is for building and tests.
/// </summary>
public sealed record MsgContainer(ImmutableArray<ContainerMessage> Messages) : TlObject
{
    /// <summary>The most messages one container may hold (spec §3).</summary>
    public const int MaxItems = 1024;

    /// <summary>The smallest serialized item: a 16-byte header and a 4-byte body.</summary>
    public const int MinItemSize = ContainerMessage.HeaderSize + 4;

    public override uint ConstructorId => ConstructorIds.MsgContainer;

    public override void WriteTo(TlWriter writer)
    {
        WriteHeader(writer, Messages.Length);
        foreach (var m in Messages.AsSpan()) m.WriteBare(writer);
    }

    /// <summary>Writes the constructor id and the item count.</summary>
    public static void WriteHeader(TlWriter writer, int count)
    {
        writer.WriteUInt32(ConstructorIds.MsgContainer);
        writer.WriteInt32(count);
    }

    /// <summary>Writes one bare item around an already serialized body.</summary>
    public static void WriteItem(TlWriter writer, long msgId, int seqNo, ReadOnlySpan<byte> body)
    {
        writer.WriteInt64(msgId);
        writer.WriteInt32(seqNo);
        writer.WriteInt32(body.Length);
        writer.WriteRaw(body);
    }

    /// <summary>
    /// Starts an item whose body the caller writes straight into <paramref name="writer"/>; returns the
    /// token to pass to <see cref="EndItem"/>, which fills in the body length.
    /// </summary>
    public static int BeginItem(TlWriter writer, long msgId, int seqNo)
    {
        writer.WriteInt64(msgId);
        writer.WriteInt32(seqNo);
        return writer.Reserve(4);
    }

    /// <summary>Completes an item started by <see cref="BeginItem"/>.</summary>
    public static void EndItem(TlWriter writer, int token) => writer.PatchInt32(token, writer.Length - token - 4);

    /// <summary>
    /// Reads the constructor id and the item count. Fails with <see cref="TlError.UnexpectedConstructor"/>
    /// for another object, <see cref="TlError.TooManyItems"/> above <see cref="MaxItems"/>,
    /// <see cref="TlError.BadLength"/> when the count cannot fit in the bytes left.
    /// </summary>
    public static bool TryReadHeader(ref TlReader r, out int count)
    {
        count = 0;
        if (!r.ExpectConstructor(ConstructorIds.MsgContainer)) return false;
        return TryReadCount(ref r, out count);
    }

    private static bool TryReadCount(ref TlReader r, out int count)
    {
        count = r.ReadInt32();
        if (!r.Ok) return false;
        if (count < 0) r.Fail(TlError.BadLength);
        else if (count > MaxItems) r.Fail(TlError.TooManyItems);
        else if ((long)count * MinItemSize > r.Remaining) r.Fail(TlError.BadLength);
        if (!r.Ok) count = 0;
        return r.Ok;
    }

    /// <summary>
    /// Reads one bare item. Its <c>bytes</c> must be a positive multiple of 4 (else
    /// <see cref="TlError.InvalidValue"/>) and within the bytes left (else <see cref="TlError.BadLength"/>).
    /// </summary>
    public static bool TryReadItem(ref TlReader r, out ContainerItem item)
    {
        item = default;
        long msgId = r.ReadInt64();
        int seqNo = r.ReadInt32();
        int length = r.ReadInt32();
        if (!r.Ok) return false;
        if (length < 4 || (length & 3) != 0)
        {
            r.Fail(length < 0 || length > r.Remaining ? TlError.BadLength : TlError.InvalidValue);
            return false;
        }
        if (length > r.Remaining)
        {
            r.Fail(TlError.BadLength);
            return false;
        }
        item = new ContainerItem(msgId, seqNo, r.ReadRaw(length));
        return r.Ok;
    }

    internal static MsgContainer ReadBody(ref TlReader r)
    {
        if (!TryReadCount(ref r, out int count)) return new MsgContainer([]);
        var items = new ContainerMessage[count];
        for (int i = 0; i < count; i++)
        {
            if (!TryReadItem(ref r, out var item)) return new MsgContainer([]);
            items[i] = new ContainerMessage(item.MsgId, item.SeqNo, Seq.Copy(item.Body));
        }
        return new MsgContainer(Seq.Own(items));
    }

    public bool Equals(MsgContainer? other) => other is not null && Messages.AsSpan().SequenceEqual(other.Messages.AsSpan());
    public override int GetHashCode() => Seq.Hash(Messages);
}

/// <summary>
/// msg_copy#e06046b2 orig_message:Message. The inner message is boxed (message#5bb8e511 msg_id seqno bytes body).
/// Telegram does not send it; it is read so that a client's copy can be handled like a one-item container.
/// </summary>
public sealed record MsgCopy(ContainerMessage OrigMessage) : TlObject
{
    public override uint ConstructorId => ConstructorIds.MsgCopy;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteUInt32(ConstructorIds.Message);
        OrigMessage.WriteBare(writer);
    }

    /// <summary>Reads the boxed message after the msg_copy id, as a slice.</summary>
    public static bool TryReadMessage(ref TlReader r, out ContainerItem item)
    {
        item = default;
        return r.ExpectConstructor(ConstructorIds.Message) && MsgContainer.TryReadItem(ref r, out item);
    }

    internal static MsgCopy? ReadBody(ref TlReader r) =>
        TryReadMessage(ref r, out var item)
            ? new MsgCopy(new ContainerMessage(item.MsgId, item.SeqNo, Seq.Copy(item.Body)))
            : null;
}
