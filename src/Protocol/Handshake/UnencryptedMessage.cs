using System.Buffers.Binary;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Handshake;

/// <summary>
/// The unencrypted message of auth-key creation (spec §1.1):
/// auth_key_id = 0 (8) | message_id (8) | message_data_length (4) | message_data (one boxed TL object).
/// </summary>
public static class UnencryptedMessage
{
    public const int HeaderLength = 20;

    /// <summary>Most bytes a padded transport may leave after message_data (padded intermediate adds 0..15).</summary>
    public const int MaxTrailingBytes = 15;

    /// <summary>
    /// Splits a transport frame into msg_id and body. The frame may carry up to 15 bytes of transport padding
    /// after the body (padded intermediate); more is refused.
    /// </summary>
    public static HandshakeError TryRead(ReadOnlySpan<byte> frame, out long messageId, out ReadOnlySpan<byte> body)
    {
        messageId = 0;
        body = default;
        if (frame.Length < HeaderLength) return HandshakeError.Truncated;
        if (BinaryPrimitives.ReadInt64LittleEndian(frame) != 0) return HandshakeError.NotUnencrypted;
        long id = BinaryPrimitives.ReadInt64LittleEndian(frame[8..]);
        int length = BinaryPrimitives.ReadInt32LittleEndian(frame[16..]);
        if (length < 0 || (length & 3) != 0) return HandshakeError.BadMessageLength;
        int available = frame.Length - HeaderLength;
        if (length > available) return HandshakeError.Truncated;
        if (available - length > MaxTrailingBytes) return HandshakeError.BadMessageLength;
        messageId = id;
        body = frame.Slice(HeaderLength, length);
        return HandshakeError.None;
    }

    /// <summary>Total size of an unencrypted message with a body of <paramref name="bodyLength"/> bytes.</summary>
    public static int GetLength(int bodyLength) => HeaderLength + bodyLength;

    /// <summary>Writes the message into <paramref name="destination"/> and returns the bytes written.</summary>
    public static int Write(Span<byte> destination, long messageId, ReadOnlySpan<byte> body)
    {
        if (destination.Length < HeaderLength + body.Length) throw new ArgumentException("Destination too small.", nameof(destination));
        BinaryPrimitives.WriteInt64LittleEndian(destination, 0);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], messageId);
        BinaryPrimitives.WriteInt32LittleEndian(destination[16..], body.Length);
        body.CopyTo(destination[HeaderLength..]);
        return HeaderLength + body.Length;
    }

    /// <summary>Appends the message to a TL writer.</summary>
    public static void Write(TlWriter writer, long messageId, ReadOnlySpan<byte> body)
    {
        int n = HeaderLength + body.Length;
        Write(writer.GetSpan(n), messageId, body);
        writer.Advance(n);
    }

    public static byte[] Create(long messageId, ReadOnlySpan<byte> body)
    {
        var result = new byte[HeaderLength + body.Length];
        Write(result, messageId, body);
        return result;
    }
}
