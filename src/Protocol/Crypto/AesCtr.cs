using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>
/// AES-256-CTR as a stream transform with OpenSSL <c>AES_ctr128_encrypt</c> semantics: the whole
/// 16-byte iv is the counter, incremented as one big-endian 128-bit number per block; the keystream
/// position carries over between calls, so any split of the stream gives the same bytes.
/// Used for transport obfuscation (one instance per direction of a connection). Not thread-safe.
/// </summary>
public sealed class AesCtr : IDisposable
{
    private const int BufferBlocks = 16;
    private AesRoundKeys _rk;
    private readonly int _rounds;
    private readonly AesEcbFallback? _fallback;
    private ulong _hi, _lo;
    private readonly byte[] _keystream = new byte[BufferBlocks * 16];
    private int _position;   // next unused keystream byte in _keystream
    private int _available;  // keystream bytes produced in _keystream

    /// <param name="key">32 bytes.</param>
    /// <param name="iv">16 bytes, the initial counter block.</param>
    public AesCtr(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv) : this(key, iv, forceFallback: false) { }

    internal AesCtr(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, bool forceFallback)
    {
        if (key.Length != 32) throw new ArgumentException("AES-256 needs a 32-byte key.", nameof(key));
        if (iv.Length != 16) throw new ArgumentException("CTR needs a 16-byte iv.", nameof(iv));
        if (AesNi.IsSupported && !forceFallback) _rounds = AesNi.ExpandKey(key, ref _rk);
        else _fallback = new AesEcbFallback(key);
        _hi = BinaryPrimitives.ReadUInt64BigEndian(iv);
        _lo = BinaryPrimitives.ReadUInt64BigEndian(iv[8..]);
    }

    /// <summary>True when the instance runs on AES-NI.</summary>
    public bool IsHardwareAccelerated => _fallback is null;

    /// <summary>Total bytes transformed so far.</summary>
    public long Position { get; private set; }

    /// <summary>Transforms <paramref name="data"/> in place.</summary>
    public void Transform(Span<byte> data) => Transform(data, data);

    /// <summary>XORs the next <c>source.Length</c> keystream bytes into <paramref name="destination"/>; in place allowed.</summary>
    public void Transform(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("Destination too small.", nameof(destination));
        int done = 0;
        while (done < source.Length)
        {
            if (_position == _available) Refill(source.Length - done);
            int n = Math.Min(_available - _position, source.Length - done);
            Xor(source.Slice(done, n), _keystream.AsSpan(_position, n), destination.Slice(done, n));
            _position += n;
            done += n;
        }
        Position += source.Length;
    }

    /// <summary>Transforms a (possibly multi-segment) sequence into <paramref name="destination"/>.</summary>
    public void Transform(in ReadOnlySequence<byte> source, Span<byte> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("Destination too small.", nameof(destination));
        int off = 0;
        foreach (ReadOnlyMemory<byte> segment in source)
        {
            Transform(segment.Span, destination.Slice(off, segment.Length));
            off += segment.Length;
        }
    }

    private void Refill(int wanted)
    {
        int blocks = Math.Clamp((wanted + 15) / 16, 1, BufferBlocks);
        if (_fallback is null) AesNi.CtrKeystream(ref _rk, _rounds, ref _hi, ref _lo, _keystream, blocks);
        else _fallback.CtrKeystream(ref _hi, ref _lo, _keystream, blocks);
        _position = 0;
        _available = blocks * 16;
    }

    private static void Xor(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> destination)
    {
        int i = 0;
        for (; i + 16 <= a.Length; i += 16)
            (Vector128.Create(a.Slice(i, 16)) ^ Vector128.Create(b.Slice(i, 16))).CopyTo(destination.Slice(i, 16));
        for (; i < a.Length; i++) destination[i] = (byte)(a[i] ^ b[i]);
    }

    public void Dispose()
    {
        AesIge.Clear(ref _rk);
        CryptographicOperations.ZeroMemory(_keystream);
        _fallback?.Dispose();
    }
}
