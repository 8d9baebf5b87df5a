using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>
/// The portable path where AES-NI is absent: single-block ECB through the platform's AES
/// (OpenSSL / CNG, constant-time, hardware-backed where the platform has it) with transforms and
/// scratch blocks created once per instance, so the per-block loop does not allocate.
/// Not thread-safe: one instance per operation or per owner.
/// </summary>
internal sealed class AesEcbFallback : IDisposable
{
    private readonly System.Security.Cryptography.Aes _aes;
    private readonly ICryptoTransform _encryptor;
    private ICryptoTransform? _decryptor;
    private readonly byte[] _in = new byte[CtrBatch];
    private readonly byte[] _out = new byte[CtrBatch];

    /// <summary>Blocks handled by one platform call when producing CTR keystream.</summary>
    public const int CtrBatch = 16 * 16;

    public AesEcbFallback(ReadOnlySpan<byte> key)
    {
        if (key.Length is not (16 or 24 or 32)) throw new ArgumentException("AES key must be 16, 24 or 32 bytes.", nameof(key));
        _aes = System.Security.Cryptography.Aes.Create();
        _aes.Mode = CipherMode.ECB;
        _aes.Padding = PaddingMode.None;
        byte[] keyCopy = key.ToArray();
        _aes.Key = keyCopy;
        _encryptor = _aes.CreateEncryptor();
        CryptographicOperations.ZeroMemory(keyCopy);
    }

    private ICryptoTransform Decryptor => _decryptor ??= _aes.CreateDecryptor();

    public void IgeEncrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Span<byte> cPrev = stackalloc byte[16];
        Span<byte> pPrev = stackalloc byte[16];
        Span<byte> p = stackalloc byte[16];
        iv[..16].CopyTo(cPrev);
        iv[16..32].CopyTo(pPrev);
        Span<byte> block = _in.AsSpan(0, 16);
        Span<byte> result = _out.AsSpan(0, 16);
        for (int off = 0; off < source.Length; off += 16)
        {
            source.Slice(off, 16).CopyTo(p);
            Xor(p, cPrev, block);
            _encryptor.TransformBlock(_in, 0, 16, _out, 0);
            Xor(result, pPrev, cPrev);
            cPrev.CopyTo(destination.Slice(off, 16));
            p.CopyTo(pPrev);
        }
        CryptographicOperations.ZeroMemory(_in.AsSpan(0, 16));
        CryptographicOperations.ZeroMemory(_out.AsSpan(0, 16));
    }

    public void IgeDecrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ICryptoTransform decryptor = Decryptor;
        Span<byte> cPrev = stackalloc byte[16];
        Span<byte> pPrev = stackalloc byte[16];
        Span<byte> c = stackalloc byte[16];
        iv[..16].CopyTo(cPrev);
        iv[16..32].CopyTo(pPrev);
        Span<byte> block = _in.AsSpan(0, 16);
        Span<byte> result = _out.AsSpan(0, 16);
        for (int off = 0; off < source.Length; off += 16)
        {
            source.Slice(off, 16).CopyTo(c);
            Xor(c, pPrev, block);
            decryptor.TransformBlock(_in, 0, 16, _out, 0);
            Xor(result, cPrev, pPrev);
            pPrev.CopyTo(destination.Slice(off, 16));
            c.CopyTo(cPrev);
        }
        CryptographicOperations.ZeroMemory(_in.AsSpan(0, 16));
        CryptographicOperations.ZeroMemory(_out.AsSpan(0, 16));
    }

    /// <summary>Same contract as <see cref="AesNi.CtrKeystream"/>; at most <see cref="CtrBatch"/> / 16 blocks per call.</summary>
    public void CtrKeystream(ref ulong hi, ref ulong lo, Span<byte> keystream, int blocks)
    {
        int bytes = blocks * 16;
        for (int off = 0; off < bytes; off += 16)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(_in.AsSpan(off), hi);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(_in.AsSpan(off + 8), lo);
            AesNi.Increment(ref hi, ref lo);
        }
        _encryptor.TransformBlock(_in, 0, bytes, _out, 0);
        _out.AsSpan(0, bytes).CopyTo(keystream);
    }

    private static void Xor(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> destination)
    {
        for (int i = 0; i < 16; i++) destination[i] = (byte)(a[i] ^ b[i]);
    }

    public void Dispose()
    {
        _encryptor.Dispose();
        _decryptor?.Dispose();
        _aes.Dispose();
        CryptographicOperations.ZeroMemory(_in);
        CryptographicOperations.ZeroMemory(_out);
    }
}
