using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>
/// AES-256 in IGE mode (OpenSSL convention): iv = iv1 (16) || iv2 (16);
/// encrypt c_i = E(p_i ^ c_{i-1}) ^ p_{i-1} with c_0 = iv1, p_0 = iv2;
/// decrypt p_i = D(c_i ^ p_{i-1}) ^ c_{i-1}.
/// Runs on AES-NI when the CPU has it (key expanded on the stack, no allocation); otherwise on the
/// platform AES one block at a time. <paramref name="source"/> and <c>destination</c> may be the
/// same memory (in-place), but must not otherwise overlap. For repeated use of one key see
/// <see cref="AesIgeCipher"/>.
/// </summary>
public static class AesIge
{
    public static void Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Check(key, iv, source, destination);
        if (AesNi.IsSupported)
        {
            AesRoundKeys rk = default;
            int rounds = AesNi.ExpandKey(key, ref rk);
            AesNi.IgeEncrypt(ref rk, rounds, iv, source, destination);
            Clear(ref rk);
        }
        else
        {
            using var fallback = new AesEcbFallback(key);
            fallback.IgeEncrypt(iv, source, destination);
        }
    }

    public static void Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Check(key, iv, source, destination);
        if (AesNi.IsSupported)
        {
            AesRoundKeys rk = default, dk = default;
            int rounds = AesNi.ExpandKey(key, ref rk);
            AesNi.InvertKey(ref rk, ref dk, rounds);
            AesNi.IgeDecrypt(ref dk, rounds, iv, source, destination);
            Clear(ref rk);
            Clear(ref dk);
        }
        else
        {
            using var fallback = new AesEcbFallback(key);
            fallback.IgeDecrypt(iv, source, destination);
        }
    }

    internal static void Clear(ref AesRoundKeys keys) =>
        CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.MemoryMarshal.AsBytes((Span<System.Runtime.Intrinsics.Vector128<byte>>)keys));

    internal static void Check(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination)
    {
        if (key.Length != 32) throw new ArgumentException("AES-256 needs a 32-byte key.", nameof(key));
        CheckData(iv, source, destination);
    }

    internal static void CheckData(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination)
    {
        if (iv.Length != 32) throw new ArgumentException("IGE needs a 32-byte iv.", nameof(iv));
        if (source.Length % 16 != 0) throw new ArgumentException("IGE data must be a multiple of 16 bytes.", nameof(source));
        if (destination.Length < source.Length) throw new ArgumentException("Destination too small.", nameof(destination));
    }
}
