using System.Buffers;
using System.Buffers.Binary;

namespace MtActors.Protocol.Transport;

/// <summary>The MTProto TCP framing in use (spec §7). Obfuscation is orthogonal (see <see cref="TransportCodec.IsObfuscated"/>).</summary>
public enum TransportKind
{
    /// <summary>0xef: 1- or 4-byte length in words.</summary>
    Abridged,
    /// <summary>0xeeeeeeee: 4-byte length.</summary>
    Intermediate,
    /// <summary>0xdddddddd: 4-byte length, 0..15 random bytes after the payload.</summary>
    PaddedIntermediate,
    /// <summary>No tag: length, sequence number, payload, CRC32.</summary>
    Full,
}

/// <summary>Why a connection's byte stream was refused. The connection cannot continue after any of them.</summary>
public enum TransportError
{
    None = 0,
    /// <summary>A frame header announced more than <see cref="TransportOptions.MaxPayloadLength"/>.</summary>
    FrameTooLarge,
    /// <summary>A length that no valid frame has (zero, or a full-transport length below 12).</summary>
    InvalidLength,
    /// <summary>Full transport: CRC32 mismatch.</summary>
    BadCrc,
    /// <summary>Full transport: the sequence number is not the next one.</summary>
    BadSequence,
    /// <summary>Obfuscated init whose decrypted tag names no supported transport (or a wrong MTProxy secret).</summary>
    BadObfuscationTag,
    /// <summary>The connection starts with an HTTP verb; the HTTP transport is not served.</summary>
    HttpNotSupported,
    /// <summary>The connection starts like an MTProxy fake-TLS ClientHello; not served.</summary>
    FakeTlsNotSupported,
}

/// <summary>The negative int32 codes sent as 4-byte transport payloads (spec §7.6).</summary>
public static class TransportErrorCodes
{
    /// <summary>Auth key not found (also: bad handshake).</summary>
    public const int AuthKeyNotFound = -404;
    /// <summary>Transport flood: too many connections or limits exceeded.</summary>
    public const int Flood = -429;
    /// <summary>Invalid DC.</summary>
    public const int InvalidDc = -444;
    /// <summary>Forbidden (mirrors HTTP 403).</summary>
    public const int Forbidden = -403;
}

public enum TransportFrameKind
{
    /// <summary>A payload (an MTProto message, or a 4-byte transport error).</summary>
    Payload,
    /// <summary>Client side: the server's quick-ack reply; see <see cref="TransportFrame.QuickAckToken"/>.</summary>
    QuickAck,
    /// <summary>The stream is malformed; see <see cref="TransportFrame.Error"/>. Close the connection.</summary>
    Error,
}

/// <summary>
/// One unit read from a transport. <see cref="Payload"/> points into the caller's buffer (or, when
/// obfuscated, into the codec's own buffer): it is valid until the next <c>TryReadFrame</c> call or
/// until the caller advances its reader past it, whichever comes first.
/// </summary>
public readonly struct TransportFrame
{
    private TransportFrame(TransportFrameKind kind, ReadOnlySequence<byte> payload, bool quickAckRequested, uint quickAckToken, TransportError error)
    {
        Kind = kind;
        Payload = payload;
        QuickAckRequested = quickAckRequested;
        QuickAckToken = quickAckToken;
        Error = error;
    }

    public TransportFrameKind Kind { get; }

    /// <summary>The frame's payload; on padded intermediate it still carries the 0..15 padding bytes.</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>Server side: the client asked for a quick ack of this message.</summary>
    public bool QuickAckRequested { get; }

    /// <summary>For <see cref="TransportFrameKind.QuickAck"/>: the token (bit 31 set).</summary>
    public uint QuickAckToken { get; }

    public TransportError Error { get; }

    internal static TransportFrame ForPayload(ReadOnlySequence<byte> payload, bool quickAckRequested) =>
        new(TransportFrameKind.Payload, payload, quickAckRequested, 0, TransportError.None);

    internal static TransportFrame ForQuickAck(uint token) =>
        new(TransportFrameKind.QuickAck, default, false, token, TransportError.None);

    internal static TransportFrame ForError(TransportError error) =>
        new(TransportFrameKind.Error, default, false, 0, error);

    /// <summary>
    /// A payload shorter than 16 bytes whose first int32 is negative is a transport error code
    /// (-404, -429, -444, ...); no MTProto message is that short.
    /// </summary>
    public bool TryGetTransportErrorCode(out int code)
    {
        code = 0;
        if (Kind != TransportFrameKind.Payload || Payload.Length < 4 || Payload.Length >= 16) return false;
        Span<byte> word = stackalloc byte[4];
        Payload.Slice(0, 4).CopyTo(word);
        int value = BinaryPrimitives.ReadInt32LittleEndian(word);
        if (value >= 0) return false;
        code = value;
        return true;
    }
}

/// <summary>Limits and secrets of a transport. Validate at start-up with <see cref="Validate"/>.</summary>
public sealed class TransportOptions
{
    /// <summary>Largest frame payload accepted; a header announcing more is refused before any payload is buffered.</summary>
    public int MaxPayloadLength { get; set; } = 2 * 1024 * 1024;

    /// <summary>Optional 16-byte MTProxy secret mixed into the obfuscation keys (key = SHA256(key || secret)).</summary>
    public byte[]? ObfuscationSecret { get; set; }

    /// <summary>Largest payload an abridged header can express (0xffffff words).</summary>
    public const int AbridgedMaxPayload = 0xFFFFFF * 4;

    public void Validate()
    {
        if (MaxPayloadLength < 16 || MaxPayloadLength > AbridgedMaxPayload)
            throw new ArgumentOutOfRangeException(nameof(MaxPayloadLength), MaxPayloadLength, $"Must be in [16, {AbridgedMaxPayload}].");
        if (ObfuscationSecret is { Length: not 16 })
            throw new ArgumentException("The obfuscation secret must be 16 bytes.", nameof(ObfuscationSecret));
    }

    public override string ToString() =>
        $"MaxPayloadLength={MaxPayloadLength}, ObfuscationSecret={(ObfuscationSecret is null ? "none" : "***")}";
}
