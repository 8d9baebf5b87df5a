using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>The fields of the encrypted message's plaintext header (spec §1.3), besides the length.</summary>
public readonly record struct MessageHeader(long Salt, long SessionId, long MsgId, int SeqNo);

/// <summary>Why an encrypted message was rejected. Every value means "drop the message".</summary>
public enum MessageDecryptError
{
    None = 0,
    /// <summary>Fewer than 24 + 48 bytes (after dropping a trailing partial block).</summary>
    TooShort,
    /// <summary>Length - 24 not a multiple of 16 and strict alignment was requested.</summary>
    NotBlockAligned,
    /// <summary>The frame's auth_key_id is not the key's.</summary>
    WrongAuthKeyId,
    /// <summary>msg_key does not match the decrypted plaintext (wrong key, corruption or forgery).</summary>
    MsgKeyMismatch,
    /// <summary>message_data_length negative, not a multiple of 4, or beyond the plaintext.</summary>
    BadLength,
    /// <summary>Padding outside 12..1024 bytes.</summary>
    BadPadding,
    /// <summary>The destination is smaller than the encrypted data.</summary>
    DestinationTooSmall,
}

/// <summary>A successfully decrypted message. <see cref="Body"/> points into the plaintext buffer.</summary>
public readonly ref struct DecryptedMessage
{
    public DecryptedMessage(MessageHeader header, ReadOnlySpan<byte> body, int bodyOffset, uint quickAckToken)
    {
        Header = header;
        Body = body;
        BodyOffset = bodyOffset;
        QuickAckToken = quickAckToken;
    }

    public MessageHeader Header { get; }
    public long Salt => Header.Salt;
    public long SessionId => Header.SessionId;
    public long MsgId => Header.MsgId;
    public int SeqNo => Header.SeqNo;

    /// <summary>message_data (L bytes), without padding.</summary>
    public ReadOnlySpan<byte> Body { get; }

    /// <summary>Offset of <see cref="Body"/> in the buffer that received the plaintext (the destination, or the frame for in-place).</summary>
    public int BodyOffset { get; }

    /// <summary>The quick-ack token for this message (bit 31 set), to answer a quick-ack request.</summary>
    public uint QuickAckToken { get; }
}

/// <summary>
/// MTProto 2.0 encrypted messages (spec §1.2–1.6):
/// <c>auth_key_id (8) | msg_key (16) | AES-256-IGE(salt | session_id | msg_id | seq_no | L | body | padding)</c>.
/// Stateless and allocation-free (the AES key schedule lives on the stack); safe to call from any thread.
/// The sender decides x: a server decrypts client messages (<see cref="MessageSender.Client"/>, x=0)
/// and encrypts its own (<see cref="MessageSender.Server"/>, x=8); a client does the reverse.
/// </summary>
public static class MessageCipher
{
    /// <summary>auth_key_id + msg_key.</summary>
    public const int ExternalHeaderLength = 24;
    /// <summary>salt, session_id, msg_id, seq_no, message_data_length.</summary>
    public const int InternalHeaderLength = 32;
    /// <summary>Where the body starts in an encrypted frame (for <see cref="Seal"/>).</summary>
    public const int BodyOffset = ExternalHeaderLength + InternalHeaderLength;
    public const int MinPadding = 12;
    public const int MaxPadding = 1024;
    /// <summary>Largest extra padding (16-byte blocks) that always keeps padding within 1024 bytes.</summary>
    public const int MaxExtraPaddingBlocks = 62;
    /// <summary>Smallest legal encrypted message: 24-byte header + 48 bytes of data.</summary>
    public const int MinLength = ExternalHeaderLength + 48;

    /// <summary>Reads the auth_key_id of any MTProto frame (0 = unencrypted). False if shorter than 8 bytes.</summary>
    public static bool TryReadAuthKeyId(ReadOnlySpan<byte> frame, out long authKeyId)
    {
        if (frame.Length < 8)
        {
            authKeyId = 0;
            return false;
        }
        authKeyId = BinaryPrimitives.ReadInt64LittleEndian(frame);
        return true;
    }

    /// <summary>Padding for a body: the least that reaches a multiple of 16 with at least 12 bytes, plus extra blocks.</summary>
    public static int GetPaddingLength(int bodyLength, int extraPaddingBlocks = 0)
    {
        if (bodyLength < 0) throw new ArgumentOutOfRangeException(nameof(bodyLength));
        if ((uint)extraPaddingBlocks > MaxExtraPaddingBlocks) throw new ArgumentOutOfRangeException(nameof(extraPaddingBlocks));
        int unpadded = InternalHeaderLength + bodyLength + MinPadding;
        return MinPadding + ((16 - (unpadded & 15)) & 15) + 16 * extraPaddingBlocks;
    }

    /// <summary>Total frame length (external header + encrypted data) for a body.</summary>
    public static int GetEncryptedLength(int bodyLength, int extraPaddingBlocks = 0) =>
        BodyOffset + bodyLength + GetPaddingLength(bodyLength, extraPaddingBlocks);

    /// <summary>A random number of extra padding blocks in [0, <paramref name="maxBlocks"/>], to vary frame sizes.</summary>
    public static int RandomExtraPaddingBlocks(int maxBlocks) =>
        RandomNumberGenerator.GetInt32(Math.Clamp(maxBlocks, 0, MaxExtraPaddingBlocks) + 1);

    /// <summary>
    /// Encrypts one message into <paramref name="destination"/> (at least <see cref="GetEncryptedLength"/> bytes)
    /// with random padding. Returns the bytes written.
    /// </summary>
    public static int Encrypt(AuthKey key, MessageSender sender, in MessageHeader header, ReadOnlySpan<byte> body, Span<byte> destination, int extraPaddingBlocks = 0) =>
        Encrypt(key, sender, header, body, destination, extraPaddingBlocks, out _);

    /// <inheritdoc cref="Encrypt(AuthKey, MessageSender, in MessageHeader, ReadOnlySpan{byte}, Span{byte}, int)"/>
    /// <param name="quickAckToken">The token the receiver will answer a quick-ack request with.</param>
    public static int Encrypt(AuthKey key, MessageSender sender, in MessageHeader header, ReadOnlySpan<byte> body, Span<byte> destination, int extraPaddingBlocks, out uint quickAckToken)
    {
        int total = GetEncryptedLength(body.Length, extraPaddingBlocks);
        if (destination.Length < total) throw new ArgumentException("Destination too small.", nameof(destination));
        body.CopyTo(destination[BodyOffset..]);
        return Seal(key, sender, header, destination, body.Length, extraPaddingBlocks, out quickAckToken);
    }

    /// <summary>Encrypts one message into the writer as one contiguous block.</summary>
    public static int Encrypt(AuthKey key, MessageSender sender, in MessageHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output, int extraPaddingBlocks = 0)
    {
        int total = GetEncryptedLength(body.Length, extraPaddingBlocks);
        int written = Encrypt(key, sender, header, body, output.GetSpan(total), extraPaddingBlocks, out _);
        output.Advance(written);
        return written;
    }

    /// <summary>
    /// Zero-copy encryption: the caller has already written the body at
    /// <c>frame[BodyOffset .. BodyOffset + bodyLength)</c>; this writes the headers and random padding
    /// around it and encrypts in place. <paramref name="frame"/> must hold
    /// <see cref="GetEncryptedLength"/> bytes. Returns the frame length.
    /// </summary>
    public static int Seal(AuthKey key, MessageSender sender, in MessageHeader header, Span<byte> frame, int bodyLength, int extraPaddingBlocks, out uint quickAckToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if ((bodyLength & 3) != 0) throw new ArgumentException("A message body is a whole number of 4-byte words.", nameof(bodyLength));
        int padding = GetPaddingLength(bodyLength, extraPaddingBlocks);
        int plainLength = InternalHeaderLength + bodyLength + padding;
        int total = ExternalHeaderLength + plainLength;
        if (frame.Length < total) throw new ArgumentException("Frame buffer too small.", nameof(frame));
        Span<byte> plain = frame.Slice(ExternalHeaderLength, plainLength);
        BinaryPrimitives.WriteInt64LittleEndian(plain, header.Salt);
        BinaryPrimitives.WriteInt64LittleEndian(plain[8..], header.SessionId);
        BinaryPrimitives.WriteInt64LittleEndian(plain[16..], header.MsgId);
        BinaryPrimitives.WriteInt32LittleEndian(plain[24..], header.SeqNo);
        BinaryPrimitives.WriteInt32LittleEndian(plain[28..], bodyLength);
        RandomPool.Fill(plain[(InternalHeaderLength + bodyLength)..]);
        EncryptPlaintextInPlace(key, sender, frame[..total], out quickAckToken);
        return total;
    }

    /// <summary>
    /// Low level: encrypts a complete plaintext (internal header, body and padding already in place,
    /// length a multiple of 16) into <paramref name="destination"/> (plaintext length + 24 bytes).
    /// Returns the bytes written.
    /// </summary>
    public static int EncryptPlaintext(AuthKey key, MessageSender sender, ReadOnlySpan<byte> plaintext, Span<byte> destination, out uint quickAckToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (plaintext.Length == 0 || (plaintext.Length & 15) != 0) throw new ArgumentException("Plaintext must be a non-empty multiple of 16 bytes.", nameof(plaintext));
        int total = ExternalHeaderLength + plaintext.Length;
        if (destination.Length < total) throw new ArgumentException("Destination too small.", nameof(destination));
        plaintext.CopyTo(destination[ExternalHeaderLength..]);
        EncryptPlaintextInPlace(key, sender, destination[..total], out quickAckToken);
        return total;
    }

    private static void EncryptPlaintextInPlace(AuthKey key, MessageSender sender, Span<byte> frame, out uint quickAckToken)
    {
        Span<byte> data = frame[ExternalHeaderLength..];
        Span<byte> msgKeyLarge = stackalloc byte[MtProtoKdf.MsgKeyLargeLength];
        MtProtoKdf.ComputeMsgKeyLarge(key.Key, sender, data, msgKeyLarge);
        quickAckToken = MtProtoKdf.QuickAckToken(msgKeyLarge);
        ReadOnlySpan<byte> msgKey = MtProtoKdf.MsgKeyOf(msgKeyLarge);
        Span<byte> aesKey = stackalloc byte[32];
        Span<byte> aesIv = stackalloc byte[32];
        MtProtoKdf.DeriveAesKeyIv(key.Key, msgKey, sender, aesKey, aesIv);
        AesIge.Encrypt(aesKey, aesIv, data, data);
        BinaryPrimitives.WriteInt64LittleEndian(frame, key.Id);
        msgKey.CopyTo(frame[8..]);
        CryptographicOperations.ZeroMemory(aesKey);
        CryptographicOperations.ZeroMemory(aesIv);
    }

    /// <summary>
    /// Decrypts and checks one encrypted message (spec §1.6 steps 2–4) from <paramref name="frame"/> into
    /// <paramref name="plaintext"/> (at least frame length - 24 bytes). A trailing partial block (padded
    /// intermediate transport padding) is dropped, as tdlib does, unless <paramref name="strictBlockAlignment"/>.
    /// The msg_key comparison is constant-time. On error the plaintext buffer content is unspecified.
    /// <paramref name="plaintext"/> must not overlap <paramref name="frame"/> (use <see cref="DecryptInPlace"/>).
    /// </summary>
    /// <param name="sender">Who encrypted it: a server passes <see cref="MessageSender.Client"/>.</param>
    public static MessageDecryptError Decrypt(AuthKey key, MessageSender sender, ReadOnlySpan<byte> frame, Span<byte> plaintext, out DecryptedMessage message, bool strictBlockAlignment = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        message = default;
        if (frame.Length < MinLength) return MessageDecryptError.TooShort;
        int dataLength = (frame.Length - ExternalHeaderLength) & ~15;
        if (strictBlockAlignment && dataLength != frame.Length - ExternalHeaderLength) return MessageDecryptError.NotBlockAligned;
        if (BinaryPrimitives.ReadInt64LittleEndian(frame) != key.Id) return MessageDecryptError.WrongAuthKeyId;
        if (plaintext.Length < dataLength) return MessageDecryptError.DestinationTooSmall;

        ReadOnlySpan<byte> msgKey = frame.Slice(8, MtProtoKdf.MsgKeyLength);
        Span<byte> aesKey = stackalloc byte[32];
        Span<byte> aesIv = stackalloc byte[32];
        MtProtoKdf.DeriveAesKeyIv(key.Key, msgKey, sender, aesKey, aesIv);
        Span<byte> plain = plaintext[..dataLength];
        AesIge.Decrypt(aesKey, aesIv, frame.Slice(ExternalHeaderLength, dataLength), plain);
        CryptographicOperations.ZeroMemory(aesKey);
        CryptographicOperations.ZeroMemory(aesIv);
        return Check(key, sender, msgKey, plain, 0, out message);
    }

    /// <summary>
    /// Decrypts in place: the plaintext replaces the encrypted data at <c>frame[24..]</c>;
    /// <see cref="DecryptedMessage.BodyOffset"/> is relative to <paramref name="frame"/>.
    /// </summary>
    public static MessageDecryptError DecryptInPlace(AuthKey key, MessageSender sender, Span<byte> frame, out DecryptedMessage message, bool strictBlockAlignment = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        message = default;
        if (frame.Length < MinLength) return MessageDecryptError.TooShort;
        int dataLength = (frame.Length - ExternalHeaderLength) & ~15;
        if (strictBlockAlignment && dataLength != frame.Length - ExternalHeaderLength) return MessageDecryptError.NotBlockAligned;
        if (BinaryPrimitives.ReadInt64LittleEndian(frame) != key.Id) return MessageDecryptError.WrongAuthKeyId;

        ReadOnlySpan<byte> msgKey = frame.Slice(8, MtProtoKdf.MsgKeyLength);
        Span<byte> aesKey = stackalloc byte[32];
        Span<byte> aesIv = stackalloc byte[32];
        MtProtoKdf.DeriveAesKeyIv(key.Key, msgKey, sender, aesKey, aesIv);
        Span<byte> plain = frame.Slice(ExternalHeaderLength, dataLength);
        AesIge.Decrypt(aesKey, aesIv, plain, plain);
        CryptographicOperations.ZeroMemory(aesKey);
        CryptographicOperations.ZeroMemory(aesIv);
        return Check(key, sender, msgKey, plain, ExternalHeaderLength, out message);
    }

    private static MessageDecryptError Check(AuthKey key, MessageSender sender, ReadOnlySpan<byte> msgKey, ReadOnlySpan<byte> plain, int plainOffset, out DecryptedMessage message)
    {
        message = default;
        Span<byte> msgKeyLarge = stackalloc byte[MtProtoKdf.MsgKeyLargeLength];
        MtProtoKdf.ComputeMsgKeyLarge(key.Key, sender, plain, msgKeyLarge);
        if (!CryptographicOperations.FixedTimeEquals(MtProtoKdf.MsgKeyOf(msgKeyLarge), msgKey)) return MessageDecryptError.MsgKeyMismatch;

        int length = BinaryPrimitives.ReadInt32LittleEndian(plain[28..]);
        if (length < 0 || (length & 3) != 0 || length > plain.Length - InternalHeaderLength) return MessageDecryptError.BadLength;
        int padding = plain.Length - InternalHeaderLength - length;
        if (padding < MinPadding || padding > MaxPadding) return MessageDecryptError.BadPadding;

        var header = new MessageHeader(
            BinaryPrimitives.ReadInt64LittleEndian(plain),
            BinaryPrimitives.ReadInt64LittleEndian(plain[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(plain[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(plain[24..]));
        message = new DecryptedMessage(header, plain.Slice(InternalHeaderLength, length), plainOffset + InternalHeaderLength, MtProtoKdf.QuickAckToken(msgKeyLarge));
        return MessageDecryptError.None;
    }
}
