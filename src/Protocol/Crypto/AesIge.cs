using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>
/// AES-256 in IGE mode (OpenSSL convention): iv = iv1 (16) || iv2 (16);
/// encrypt c_i = E(p_i ^ c_{i-1}) ^ p_{i-1} with c_0 = iv1, p_0 = iv2.
/// Simple reference implementation on top of ECB; the hardware path replaces its internals.
/// </summary>
public static class AesIge
{
    public static void Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Check(key, iv, source, destination);
        using var aes = Aes.Create();
        aes.Key = key.ToArray();
        Span<byte> prevC = stackalloc byte[16];
        Span<byte> prevP = stackalloc byte[16];
        Span<byte> block = stackalloc byte[16];
        Span<byte> p = stackalloc byte[16];
        iv[..16].CopyTo(prevC);
        iv[16..32].CopyTo(prevP);
        for (int off = 0; off < source.Length; off += 16)
        {
            source.Slice(off, 16).CopyTo(p);
            for (int i = 0; i < 16; i++) block[i] = (byte)(p[i] ^ prevC[i]);
            aes.EncryptEcb(block, block, PaddingMode.None);
            for (int i = 0; i < 16; i++) block[i] ^= prevP[i];
            block.CopyTo(destination.Slice(off, 16));
            block.CopyTo(prevC);
            p.CopyTo(prevP);
        }
    }

    public static void Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Check(key, iv, source, destination);
        using var aes = Aes.Create();
        aes.Key = key.ToArray();
        Span<byte> prevC = stackalloc byte[16];
        Span<byte> prevP = stackalloc byte[16];
        Span<byte> block = stackalloc byte[16];
        Span<byte> c = stackalloc byte[16];
        iv[..16].CopyTo(prevC);
        iv[16..32].CopyTo(prevP);
        for (int off = 0; off < source.Length; off += 16)
        {
            source.Slice(off, 16).CopyTo(c);
            for (int i = 0; i < 16; i++) block[i] = (byte)(c[i] ^ prevP[i]);
            aes.DecryptEcb(block, block, PaddingMode.None);
            for (int i = 0; i < 16; i++) block[i] ^= prevC[i];
            block.CopyTo(destination.Slice(off, 16));
            block.CopyTo(prevP);
            c.CopyTo(prevC);
        }
    }

    private static void Check(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (key.Length != 32) throw new ArgumentException("AES-256 needs a 32-byte key.", nameof(key));
        if (iv.Length != 32) throw new ArgumentException("IGE needs a 32-byte iv.", nameof(iv));
        if (source.Length % 16 != 0) throw new ArgumentException("IGE data must be a multiple of 16 bytes.", nameof(source));
        if (destination.Length < source.Length) throw new ArgumentException("Destination too small.", nameof(destination));
    }
}
