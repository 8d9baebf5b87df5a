using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace MtActors.Protocol.Transport;

/// <summary>
/// The framing of one transport for one side of a connection: parses frames from a (plaintext)
/// byte sequence and lays out frames around a payload. Reading and writing keep separate state, so
/// one reader and one writer may run concurrently.
/// </summary>
internal abstract class Framing
{
    protected readonly bool IsServer;
    protected readonly int MaxPayload;

    protected Framing(bool isServer, int maxPayload)
    {
        IsServer = isServer;
        MaxPayload = maxPayload;
    }

    public abstract TransportKind Kind { get; }

    /// <summary>Largest header + trailer + padding around a payload.</summary>
    public abstract int MaxOverhead { get; }

    public virtual bool SupportsQuickAck => true;

    /// <summary>
    /// Reads one frame if complete: true with a payload, quick-ack or error frame (then
    /// <paramref name="buffer"/> is advanced past what was consumed); false when more bytes are needed
    /// (nothing consumed).
    /// </summary>
    public abstract bool TryRead(ref ReadOnlySequence<byte> buffer, out TransportFrame frame);

    public abstract int HeaderLength(int payloadLength);

    /// <summary>Largest frame for a payload (header + payload + trailer + maximum padding).</summary>
    public abstract int MaxFrameLength(int payloadLength);

    /// <summary>Writes header, trailer and padding around the payload already at <c>frame[HeaderLength..]</c>; returns the frame length.</summary>
    public abstract int Complete(Span<byte> frame, int payloadLength, bool quickAckRequest, bool allowPadding);

    /// <summary>Server side: the 4 bytes answering a quick-ack request.</summary>
    public abstract void WriteQuickAck(uint token, Span<byte> destination);

    /// <summary>The tag a client sends first (plain, or inside the obfuscated init).</summary>
    public static uint Tag(TransportKind kind) => kind switch
    {
        TransportKind.Abridged => 0xEFEFEFEFu,
        TransportKind.Intermediate => 0xEEEEEEEEu,
        TransportKind.PaddedIntermediate => 0xDDDDDDDDu,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "The full transport has no tag."),
    };

    public static Framing Create(TransportKind kind, bool isServer, int maxPayload) => kind switch
    {
        TransportKind.Abridged => new AbridgedFraming(isServer, maxPayload),
        TransportKind.Intermediate => new IntermediateFraming(isServer, maxPayload, padded: false),
        TransportKind.PaddedIntermediate => new IntermediateFraming(isServer, maxPayload, padded: true),
        TransportKind.Full => new FullFraming(isServer, maxPayload),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static bool TryPeek(in ReadOnlySequence<byte> buffer, Span<byte> destination)
    {
        if (buffer.Length < destination.Length) return false;
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= destination.Length) first[..destination.Length].CopyTo(destination);
        else buffer.Slice(0, destination.Length).CopyTo(destination);
        return true;
    }

    protected static void CheckPayload(int payloadLength)
    {
        if (payloadLength <= 0) throw new ArgumentOutOfRangeException(nameof(payloadLength), "A frame carries at least one byte.");
    }
}

/// <summary>Abridged (spec §7.2): length/4 in 1 byte (0x01..0x7e) or 0x7f + 3 bytes LE; bit 0x80 of the first byte = quick-ack request (client) / quick-ack reply (server, token big-endian).</summary>
internal sealed class AbridgedFraming(bool isServer, int maxPayload) : Framing(isServer, maxPayload)
{
    public override TransportKind Kind => TransportKind.Abridged;
    public override int MaxOverhead => 4;

    public override bool TryRead(ref ReadOnlySequence<byte> buffer, out TransportFrame frame)
    {
        frame = default;
        Span<byte> header = stackalloc byte[4];
        if (!TryPeek(buffer, header[..1])) return false;
        byte first = header[0];
        bool flag = (first & 0x80) != 0;
        if (flag && !IsServer)
        {
            // A quick-ack reply: the token written big-endian, so its top bit lands here.
            if (!TryPeek(buffer, header)) return false;
            buffer = buffer.Slice(4);
            frame = TransportFrame.ForQuickAck(BinaryPrimitives.ReadUInt32BigEndian(header));
            return true;
        }
        long words = first & 0x7F;
        int headerLength = 1;
        if (words == 0x7F)
        {
            if (!TryPeek(buffer, header)) return false;
            words = header[1] | (header[2] << 8) | (header[3] << 16);
            headerLength = 4;
        }
        long length = words * 4;
        if (length == 0)
        {
            frame = TransportFrame.ForError(TransportError.InvalidLength);
            return true;
        }
        if (length > MaxPayload)
        {
            frame = TransportFrame.ForError(TransportError.FrameTooLarge);
            return true;
        }
        if (buffer.Length < headerLength + length) return false;
        frame = TransportFrame.ForPayload(buffer.Slice(headerLength, length), quickAckRequested: flag);
        buffer = buffer.Slice(headerLength + length);
        return true;
    }

    public override int HeaderLength(int payloadLength) => payloadLength / 4 < 0x7F ? 1 : 4;

    public override int MaxFrameLength(int payloadLength) => HeaderLength(payloadLength) + payloadLength;

    public override int Complete(Span<byte> frame, int payloadLength, bool quickAckRequest, bool allowPadding)
    {
        CheckPayload(payloadLength);
        if ((payloadLength & 3) != 0) throw new ArgumentException("Abridged payloads are whole 4-byte words.", nameof(payloadLength));
        if (payloadLength > TransportOptions.AbridgedMaxPayload) throw new ArgumentOutOfRangeException(nameof(payloadLength));
        int words = payloadLength / 4;
        byte flag = quickAckRequest ? (byte)0x80 : (byte)0;
        if (words < 0x7F)
        {
            frame[0] = (byte)(words | flag);
            return 1 + payloadLength;
        }
        frame[0] = (byte)(0x7F | flag);
        frame[1] = (byte)words;
        frame[2] = (byte)(words >> 8);
        frame[3] = (byte)(words >> 16);
        return 4 + payloadLength;
    }

    public override void WriteQuickAck(uint token, Span<byte> destination) =>
        BinaryPrimitives.WriteUInt32BigEndian(destination, token | 0x80000000u);
}

/// <summary>
/// Intermediate and padded intermediate (spec §7.3): uint32 LE length (bit 31 = quick-ack request
/// from a client; from a server a length word with bit 31 is a bare quick-ack token), then the
/// payload; the padded variant appends 0..15 random bytes counted in the length.
/// </summary>
internal sealed class IntermediateFraming(bool isServer, int maxPayload, bool padded) : Framing(isServer, maxPayload)
{
    public override TransportKind Kind => padded ? TransportKind.PaddedIntermediate : TransportKind.Intermediate;
    public override int MaxOverhead => padded ? 4 + 15 : 4;

    public override bool TryRead(ref ReadOnlySequence<byte> buffer, out TransportFrame frame)
    {
        frame = default;
        Span<byte> header = stackalloc byte[4];
        if (!TryPeek(buffer, header)) return false;
        uint word = BinaryPrimitives.ReadUInt32LittleEndian(header);
        bool flag = (word & 0x80000000u) != 0;
        if (flag && !IsServer)
        {
            buffer = buffer.Slice(4);
            frame = TransportFrame.ForQuickAck(word);
            return true;
        }
        long length = word & 0x7FFFFFFFu;
        if (length == 0)
        {
            frame = TransportFrame.ForError(TransportError.InvalidLength);
            return true;
        }
        if (length > MaxPayload + (padded ? 15 : 0))
        {
            frame = TransportFrame.ForError(TransportError.FrameTooLarge);
            return true;
        }
        if (buffer.Length < 4 + length) return false;
        frame = TransportFrame.ForPayload(buffer.Slice(4, length), quickAckRequested: flag);
        buffer = buffer.Slice(4 + length);
        return true;
    }

    public override int HeaderLength(int payloadLength) => 4;

    public override int MaxFrameLength(int payloadLength) => 4 + payloadLength + (padded ? 15 : 0);

    public override int Complete(Span<byte> frame, int payloadLength, bool quickAckRequest, bool allowPadding)
    {
        CheckPayload(payloadLength);
        int padding = padded && allowPadding ? Crypto.RandomPool.Next16() : 0;
        if ((long)payloadLength + padding > 0x7FFFFFFF) throw new ArgumentOutOfRangeException(nameof(payloadLength));
        if (padding > 0) Crypto.RandomPool.Fill(frame.Slice(4 + payloadLength, padding));
        uint word = (uint)(payloadLength + padding) | (quickAckRequest ? 0x80000000u : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(frame, word);
        return 4 + payloadLength + padding;
    }

    public override void WriteQuickAck(uint token, Span<byte> destination) =>
        BinaryPrimitives.WriteUInt32LittleEndian(destination, token | 0x80000000u);
}

/// <summary>
/// Full (spec §7.4): uint32 length (= payload + 12) | uint32 seq (per direction, from 0) | payload |
/// CRC32 (IEEE) of everything before it. No quick acks.
/// </summary>
internal sealed class FullFraming(bool isServer, int maxPayload) : Framing(isServer, maxPayload)
{
    private readonly Crc32 _readCrc = new();
    private uint _readSeq;
    private uint _writeSeq;

    public override TransportKind Kind => TransportKind.Full;
    public override int MaxOverhead => 12;
    public override bool SupportsQuickAck => false;

    public override bool TryRead(ref ReadOnlySequence<byte> buffer, out TransportFrame frame)
    {
        frame = default;
        Span<byte> header = stackalloc byte[8];
        if (!TryPeek(buffer, header)) return false;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        uint seq = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (length < 12)
        {
            frame = TransportFrame.ForError(TransportError.InvalidLength);
            return true;
        }
        if (length - 12 > (uint)MaxPayload)
        {
            frame = TransportFrame.ForError(TransportError.FrameTooLarge);
            return true;
        }
        if (buffer.Length < length) return false;

        ReadOnlySequence<byte> covered = buffer.Slice(0, length - 4);
        _readCrc.Reset();
        foreach (ReadOnlyMemory<byte> segment in covered) _readCrc.Append(segment.Span);
        Span<byte> trailer = stackalloc byte[4];
        buffer.Slice(length - 4, 4).CopyTo(trailer);
        if (_readCrc.GetCurrentHashAsUInt32() != BinaryPrimitives.ReadUInt32LittleEndian(trailer))
        {
            frame = TransportFrame.ForError(TransportError.BadCrc);
            return true;
        }
        if (seq != _readSeq)
        {
            frame = TransportFrame.ForError(TransportError.BadSequence);
            return true;
        }
        _readSeq++;
        frame = TransportFrame.ForPayload(buffer.Slice(8, length - 12), quickAckRequested: false);
        buffer = buffer.Slice(length);
        return true;
    }

    public override int HeaderLength(int payloadLength) => 8;

    public override int MaxFrameLength(int payloadLength) => payloadLength + 12;

    public override int Complete(Span<byte> frame, int payloadLength, bool quickAckRequest, bool allowPadding)
    {
        CheckPayload(payloadLength);
        if (payloadLength > int.MaxValue - 12) throw new ArgumentOutOfRangeException(nameof(payloadLength));
        int length = payloadLength + 12;
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], _writeSeq++);
        uint crc = Crc32.HashToUInt32(frame[..(length - 4)]);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[(length - 4)..], crc);
        return length;
    }

    public override void WriteQuickAck(uint token, Span<byte> destination) =>
        throw new NotSupportedException("The full transport has no quick acks.");
}
