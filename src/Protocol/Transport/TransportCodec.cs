using System.Buffers;
using System.Buffers.Binary;
using MtActors.Protocol.Crypto;

namespace MtActors.Protocol.Transport;

/// <summary>
/// One side of one MTProto TCP connection: an incremental frame reader in the System.IO.Pipelines
/// shape and a writer that lays out one contiguous buffer per frame. Both run over the optional
/// AES-256-CTR obfuscation layer. See <see cref="ServerTransport"/> and <see cref="ClientTransport"/>.
/// <para>
/// Reading: <c>while (codec.TryReadFrame(ref buffer, out var frame)) { ... }</c> then
/// <c>reader.AdvanceTo(buffer.Start, buffer.End)</c>. <c>TryReadFrame</c> consumes what it used (it may
/// consume bytes even when it returns false: detection tags, obfuscated bytes that it has decrypted into
/// its own buffer) and leaves the rest. A malformed stream yields one frame of kind
/// <see cref="TransportFrameKind.Error"/>; after it the codec is faulted and returns false.
/// </para>
/// <para>
/// Writing: <see cref="WriteFrame(ReadOnlySpan{byte}, IBufferWriter{byte}, bool)"/>, or zero-copy with
/// <see cref="GetPayloadOffset"/> / <see cref="GetMaxFrameLength"/> / <see cref="CompleteFrame"/>.
/// </para>
/// One reader and one writer may run concurrently; each side on its own is single-threaded.
/// </summary>
public abstract class TransportCodec : IDisposable
{
    private const int PumpChunk = 64 * 1024;

    private protected readonly TransportOptions Options;
    private protected Framing? ReadFraming;
    private protected Framing? WriteFramingOrNull;
    private protected AesCtr? ReadCtr;
    private protected AesCtr? WriteCtr;
    private protected byte[]? PendingPreamble;

    private TransportError _error;
    private byte[]? _plain;
    private int _plainStart;
    private int _plainEnd;

    private protected TransportCodec(TransportOptions? options, bool isServer)
    {
        Options = options ?? new TransportOptions();
        Options.Validate();
        IsServer = isServer;
    }

    public bool IsServer { get; }

    /// <summary>False on a server until the first bytes have been recognised.</summary>
    public bool IsDetected => ReadFraming is not null;

    public TransportKind Kind => ReadFraming?.Kind ?? throw new InvalidOperationException("The transport has not been detected yet.");

    /// <summary>True when the connection runs over AES-256-CTR obfuscation.</summary>
    public bool IsObfuscated => ReadCtr is not null;

    /// <summary>Quick acks exist on abridged and (padded) intermediate, not on full.</summary>
    public bool SupportsQuickAck => WriteFraming.SupportsQuickAck;

    /// <summary>The error that faulted the reader, or <see cref="TransportError.None"/>.</summary>
    public TransportError Error => _error;

    private protected Framing WriteFraming => WriteFramingOrNull ?? throw new InvalidOperationException("The transport has not been detected yet.");

    /// <summary>Reads the next frame; see the class remarks for the contract.</summary>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out TransportFrame frame)
    {
        frame = default;
        if (_error != TransportError.None) return false;
        if (ReadFraming is null)
        {
            if (!TryDetect(ref buffer, out TransportError detectError)) return false;
            if (detectError != TransportError.None)
            {
                _error = detectError;
                frame = TransportFrame.ForError(detectError);
                return true;
            }
        }
        bool got = ReadCtr is null ? ReadFraming!.TryRead(ref buffer, out frame) : ReadObfuscated(ref buffer, out frame);
        if (got && frame.Kind == TransportFrameKind.Error) _error = frame.Error;
        return got;
    }

    /// <summary>Server: recognises the transport from the first bytes. Returns false while more bytes are needed.</summary>
    private protected virtual bool TryDetect(ref ReadOnlySequence<byte> buffer, out TransportError error)
    {
        error = TransportError.None;
        return false;
    }

    private bool ReadObfuscated(ref ReadOnlySequence<byte> buffer, out TransportFrame frame)
    {
        while (true)
        {
            var plain = new ReadOnlySequence<byte>(_plain ?? [], _plainStart, _plainEnd - _plainStart);
            long before = plain.Length;
            if (ReadFraming!.TryRead(ref plain, out frame))
            {
                _plainStart += (int)(before - plain.Length);
                return true;
            }
            if (buffer.IsEmpty || !Pump(ref buffer)) return false;
        }
    }

    /// <summary>Decrypts the next chunk of input into the plaintext buffer; exactly the bytes consumed pass through CTR.</summary>
    private bool Pump(ref ReadOnlySequence<byte> buffer)
    {
        int buffered = _plainEnd - _plainStart;
        if (buffered == 0) _plainStart = _plainEnd = 0;
        // A frame never needs more than max payload + framing overhead: beyond that the framing has
        // already refused the header, so the buffer stays bounded by what one frame may hold.
        int limit = Options.MaxPayloadLength + ReadFraming!.MaxOverhead;
        int n = (int)Math.Min(Math.Min(buffer.Length, PumpChunk), limit - buffered);
        if (n <= 0) return false;
        EnsureSpace(buffered, n, limit);
        ReadCtr!.Transform(buffer.Slice(0, n), _plain.AsSpan(_plainEnd, n));
        _plainEnd += n;
        buffer = buffer.Slice(n);
        return true;
    }

    private void EnsureSpace(int buffered, int n, int limit)
    {
        if (_plain is not null && _plain.Length - _plainEnd >= n) return;
        if (_plain is not null && _plain.Length - buffered >= n)
        {
            Buffer.BlockCopy(_plain, _plainStart, _plain, 0, buffered);
        }
        else
        {
            int size = Math.Max(buffered + n, Math.Min(Math.Max(4096, (_plain?.Length ?? 0) * 2), limit));
            byte[] grown = ArrayPool<byte>.Shared.Rent(size);
            if (_plain is not null)
            {
                Buffer.BlockCopy(_plain, _plainStart, grown, 0, buffered);
                ArrayPool<byte>.Shared.Return(_plain);
            }
            _plain = grown;
        }
        _plainStart = 0;
        _plainEnd = buffered;
    }

    private int PendingPreambleLength => PendingPreamble?.Length ?? 0;

    /// <summary>Where the payload goes in a frame buffer (header length, plus the client's preamble before its first frame).</summary>
    public int GetPayloadOffset(int payloadLength) => PendingPreambleLength + WriteFraming.HeaderLength(payloadLength);

    /// <summary>Buffer size that always holds the frame for <paramref name="payloadLength"/> bytes of payload.</summary>
    public int GetMaxFrameLength(int payloadLength) => PendingPreambleLength + WriteFraming.MaxFrameLength(payloadLength);

    /// <summary>
    /// Zero-copy writing: the payload is already at <c>frame[GetPayloadOffset(payloadLength)..]</c> in a
    /// buffer of <see cref="GetMaxFrameLength"/> bytes; writes the header, trailer or padding (and a pending
    /// preamble), obfuscates, and returns the frame's length.
    /// </summary>
    /// <param name="quickAckRequest">Client only: ask the server for a quick ack of this message.</param>
    public int CompleteFrame(Span<byte> frame, int payloadLength, bool quickAckRequest = false) =>
        Complete(frame, payloadLength, quickAckRequest, allowPadding: true);

    private int Complete(Span<byte> frame, int payloadLength, bool quickAckRequest, bool allowPadding)
    {
        Framing framing = WriteFraming;
        if (quickAckRequest)
        {
            if (IsServer) throw new ArgumentException("Only a client requests quick acks.", nameof(quickAckRequest));
            if (!framing.SupportsQuickAck) throw new NotSupportedException("The full transport has no quick acks.");
        }
        if (frame.Length < GetMaxFrameLength(payloadLength)) throw new ArgumentException("Frame buffer too small.", nameof(frame));
        int preamble = PendingPreambleLength;
        Span<byte> body = frame[preamble..];
        int length = framing.Complete(body, payloadLength, quickAckRequest, allowPadding);
        WriteCtr?.Transform(body[..length]);
        if (preamble > 0)
        {
            PendingPreamble.CopyTo(frame);
            PendingPreamble = null;
        }
        return preamble + length;
    }

    /// <summary>Frames <paramref name="payload"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public int WriteFrame(ReadOnlySpan<byte> payload, Span<byte> destination, bool quickAckRequest = false)
    {
        if (destination.Length < GetMaxFrameLength(payload.Length)) throw new ArgumentException("Destination too small.", nameof(destination));
        payload.CopyTo(destination[GetPayloadOffset(payload.Length)..]);
        return CompleteFrame(destination, payload.Length, quickAckRequest);
    }

    /// <summary>Frames <paramref name="payload"/> as one contiguous block of <paramref name="output"/>; returns the bytes written.</summary>
    public int WriteFrame(ReadOnlySpan<byte> payload, IBufferWriter<byte> output, bool quickAckRequest = false)
    {
        Span<byte> span = output.GetSpan(GetMaxFrameLength(payload.Length));
        int written = WriteFrame(payload, span, quickAckRequest);
        output.Advance(written);
        return written;
    }

    /// <summary>Writes a transport error (4-byte negative int32 payload, never padded), e.g. <see cref="TransportErrorCodes.AuthKeyNotFound"/>.</summary>
    public int WriteTransportError(int code, IBufferWriter<byte> output)
    {
        if (code >= 0) throw new ArgumentOutOfRangeException(nameof(code), "Transport error codes are negative.");
        Span<byte> span = output.GetSpan(GetMaxFrameLength(4));
        BinaryPrimitives.WriteInt32LittleEndian(span[GetPayloadOffset(4)..], code);
        int written = Complete(span, 4, quickAckRequest: false, allowPadding: false);
        output.Advance(written);
        return written;
    }

    /// <summary>
    /// Server: answers a quick-ack request with the message's token (abridged: big-endian; intermediate:
    /// the bare LE word). Returns false on the full transport, which has none.
    /// </summary>
    public bool TryWriteQuickAck(uint token, IBufferWriter<byte> output)
    {
        if (!IsServer) throw new InvalidOperationException("Only a server answers quick acks.");
        Framing framing = WriteFraming;
        if (!framing.SupportsQuickAck) return false;
        Span<byte> span = output.GetSpan(4)[..4];
        framing.WriteQuickAck(token, span);
        WriteCtr?.Transform(span);
        output.Advance(4);
        return true;
    }

    public void Dispose()
    {
        ReadCtr?.Dispose();
        WriteCtr?.Dispose();
        if (_plain is not null)
        {
            ArrayPool<byte>.Shared.Return(_plain);
            _plain = null;
        }
        GC.SuppressFinalize(this);
    }
}
