using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace MtActors.Protocol.Crypto;

/// <summary>Room for the round keys of AES-128 (11) up to AES-256 (15).</summary>
[InlineArray(15)]
internal struct AesRoundKeys
{
    private Vector128<byte> _element0;
}

/// <summary>
/// AES on the x86 AES-NI instructions: key expansion (AES-128 for tests, AES-256 for the protocol),
/// the decryption schedule through InverseMixColumns, IGE in both directions and CTR keystream.
/// Everything works on caller-owned round keys (stack or object field); nothing allocates.
/// Callers check <see cref="IsSupported"/> first.
/// </summary>
internal static class AesNi
{
    public static bool IsSupported => X86Aes.IsSupported && Sse2.IsSupported && Ssse3.IsSupported;

    /// <summary>Expands a 16- or 32-byte key into <paramref name="enc"/>; returns the number of rounds (10 or 14).</summary>
    public static int ExpandKey(ReadOnlySpan<byte> key, ref AesRoundKeys enc)
    {
        if (key.Length == 32)
        {
            ExpandKey256(key, ref enc);
            return 14;
        }
        if (key.Length == 16)
        {
            ExpandKey128(key, ref enc);
            return 10;
        }
        throw new ArgumentException("AES key must be 16 or 32 bytes.", nameof(key));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Mix(Vector128<byte> k, Vector128<byte> t)
    {
        k ^= Sse2.ShiftLeftLogical128BitLane(k, 4);
        k ^= Sse2.ShiftLeftLogical128BitLane(k, 4);
        k ^= Sse2.ShiftLeftLogical128BitLane(k, 4);
        return k ^ t;
    }

    // KeygenAssist needs a constant round constant, hence one helper per use instead of a loop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Word3(Vector128<byte> v) => Sse2.Shuffle(v.AsUInt32(), 0xFF).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Word2(Vector128<byte> v) => Sse2.Shuffle(v.AsUInt32(), 0xAA).AsByte();

    private static void ExpandKey256(ReadOnlySpan<byte> key, ref AesRoundKeys rk)
    {
        Vector128<byte> a = Vector128.Create(key[..16]);
        Vector128<byte> b = Vector128.Create(key[16..32]);
        rk[0] = a;
        rk[1] = b;
        a = Mix(a, Word3(X86Aes.KeygenAssist(b, 0x01))); rk[2] = a;
        b = Mix(b, Word2(X86Aes.KeygenAssist(a, 0x00))); rk[3] = b;
        a = Mix(a, Word3(X86Aes.KeygenAssist(b, 0x02))); rk[4] = a;
        b = Mix(b, Word2(X86Aes.KeygenAssist(a, 0x00))); rk[5] = b;
        a = Mix(a, Word3(X86Aes.KeygenAssist(b, 0x04))); rk[6] = a;
        b = Mix(b, Word2(X86Aes.KeygenAssist(a, 0x00))); rk[7] = b;
        a = Mix(a, Word3(X86Aes.KeygenAssist(b, 0x08))); rk[8] = a;
        b = Mix(b, Word2(X86Aes.KeygenAssist(a, 0x00))); rk[9] = b;
        a = Mix(a, Word3(X86Aes.KeygenAssist(b, 0x10))); rk[10] = a;
        b = Mix(b, Word2(X86Aes.KeygenAssist(a, 0x00))); rk[11] = b;
        a = Mix(a, Word3(X86Aes.KeygenAssist(b, 0x20))); rk[12] = a;
        b = Mix(b, Word2(X86Aes.KeygenAssist(a, 0x00))); rk[13] = b;
        a = Mix(a, Word3(X86Aes.KeygenAssist(b, 0x40))); rk[14] = a;
    }

    private static void ExpandKey128(ReadOnlySpan<byte> key, ref AesRoundKeys rk)
    {
        Vector128<byte> k = Vector128.Create(key[..16]);
        rk[0] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x01))); rk[1] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x02))); rk[2] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x04))); rk[3] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x08))); rk[4] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x10))); rk[5] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x20))); rk[6] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x40))); rk[7] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x80))); rk[8] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x1B))); rk[9] = k;
        k = Mix(k, Word3(X86Aes.KeygenAssist(k, 0x36))); rk[10] = k;
    }

    /// <summary>The equivalent-inverse-cipher schedule: reversed, with InverseMixColumns on the inner keys.</summary>
    public static void InvertKey(ref readonly AesRoundKeys enc, ref AesRoundKeys dec, int rounds)
    {
        dec[0] = enc[rounds];
        for (int i = 1; i < rounds; i++) dec[i] = X86Aes.InverseMixColumns(enc[rounds - i]);
        dec[rounds] = enc[0];
    }

    /// <summary>
    /// IGE encryption: c_i = E(p_i ^ c_{i-1}) ^ p_{i-1}, c_0 = iv[0..16), p_0 = iv[16..32).
    /// <paramref name="source"/> and <paramref name="destination"/> may be the same memory.
    /// </summary>
    public static void IgeEncrypt(ref readonly AesRoundKeys rk, int rounds, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        Vector128<byte> cPrev = Vector128.Create(iv[..16]);
        Vector128<byte> pPrev = Vector128.Create(iv[16..32]);
        Vector128<byte> k0 = rk[0];
        Vector128<byte> kLast = rk[rounds];
        nuint length = (nuint)source.Length;
        if (rounds == 14)
        {
            // AES-256, the protocol case: round keys held in locals so the JIT keeps them in registers.
            Vector128<byte> k1 = rk[1], k2 = rk[2], k3 = rk[3], k4 = rk[4], k5 = rk[5], k6 = rk[6], k7 = rk[7];
            Vector128<byte> k8 = rk[8], k9 = rk[9], k10 = rk[10], k11 = rk[11], k12 = rk[12], k13 = rk[13];
            for (nuint off = 0; off < length; off += 16)
            {
                Vector128<byte> p = Vector128.LoadUnsafe(ref src, off);
                // The whitening key and the trailing xor with p_{i-1} fold into the first and last round.
                Vector128<byte> x = (p ^ k0) ^ cPrev;
                x = X86Aes.Encrypt(x, k1);
                x = X86Aes.Encrypt(x, k2);
                x = X86Aes.Encrypt(x, k3);
                x = X86Aes.Encrypt(x, k4);
                x = X86Aes.Encrypt(x, k5);
                x = X86Aes.Encrypt(x, k6);
                x = X86Aes.Encrypt(x, k7);
                x = X86Aes.Encrypt(x, k8);
                x = X86Aes.Encrypt(x, k9);
                x = X86Aes.Encrypt(x, k10);
                x = X86Aes.Encrypt(x, k11);
                x = X86Aes.Encrypt(x, k12);
                x = X86Aes.Encrypt(x, k13);
                x = X86Aes.EncryptLast(x, kLast ^ pPrev);
                x.StoreUnsafe(ref dst, off);
                cPrev = x;
                pPrev = p;
            }
            return;
        }
        for (nuint off = 0; off < length; off += 16)
        {
            Vector128<byte> p = Vector128.LoadUnsafe(ref src, off);
            Vector128<byte> x = (p ^ k0) ^ cPrev;
            for (int r = 1; r < rounds; r++) x = X86Aes.Encrypt(x, rk[r]);
            x = X86Aes.EncryptLast(x, kLast ^ pPrev);
            x.StoreUnsafe(ref dst, off);
            cPrev = x;
            pPrev = p;
        }
    }

    /// <summary>
    /// IGE decryption with the inverse schedule: p_i = D(c_i ^ p_{i-1}) ^ c_{i-1}.
    /// <paramref name="source"/> and <paramref name="destination"/> may be the same memory.
    /// </summary>
    public static void IgeDecrypt(ref readonly AesRoundKeys dk, int rounds, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        Vector128<byte> cPrev = Vector128.Create(iv[..16]);
        Vector128<byte> pPrev = Vector128.Create(iv[16..32]);
        Vector128<byte> k0 = dk[0];
        Vector128<byte> kLast = dk[rounds];
        nuint length = (nuint)source.Length;
        if (rounds == 14)
        {
            Vector128<byte> k1 = dk[1], k2 = dk[2], k3 = dk[3], k4 = dk[4], k5 = dk[5], k6 = dk[6], k7 = dk[7];
            Vector128<byte> k8 = dk[8], k9 = dk[9], k10 = dk[10], k11 = dk[11], k12 = dk[12], k13 = dk[13];
            for (nuint off = 0; off < length; off += 16)
            {
                Vector128<byte> c = Vector128.LoadUnsafe(ref src, off);
                Vector128<byte> x = (c ^ k0) ^ pPrev;
                x = X86Aes.Decrypt(x, k1);
                x = X86Aes.Decrypt(x, k2);
                x = X86Aes.Decrypt(x, k3);
                x = X86Aes.Decrypt(x, k4);
                x = X86Aes.Decrypt(x, k5);
                x = X86Aes.Decrypt(x, k6);
                x = X86Aes.Decrypt(x, k7);
                x = X86Aes.Decrypt(x, k8);
                x = X86Aes.Decrypt(x, k9);
                x = X86Aes.Decrypt(x, k10);
                x = X86Aes.Decrypt(x, k11);
                x = X86Aes.Decrypt(x, k12);
                x = X86Aes.Decrypt(x, k13);
                x = X86Aes.DecryptLast(x, kLast ^ cPrev);
                x.StoreUnsafe(ref dst, off);
                pPrev = x;
                cPrev = c;
            }
            return;
        }
        for (nuint off = 0; off < length; off += 16)
        {
            Vector128<byte> c = Vector128.LoadUnsafe(ref src, off);
            Vector128<byte> x = (c ^ k0) ^ pPrev;
            for (int r = 1; r < rounds; r++) x = X86Aes.Decrypt(x, dk[r]);
            x = X86Aes.DecryptLast(x, kLast ^ cPrev);
            x.StoreUnsafe(ref dst, off);
            pPrev = x;
            cPrev = c;
        }
    }

    private static readonly Vector128<byte> ReverseBytes = Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);

    /// <summary>
    /// Writes <paramref name="blocks"/> keystream blocks E(counter), E(counter+1), ... into
    /// <paramref name="keystream"/> and advances the big-endian 128-bit counter (hi, lo).
    /// Four blocks at a time are interleaved to hide the AESENC latency.
    /// </summary>
    public static void CtrKeystream(ref readonly AesRoundKeys rk, int rounds, ref ulong hi, ref ulong lo, Span<byte> keystream, int blocks)
    {
        ref byte dst = ref MemoryMarshal.GetReference(keystream);
        Vector128<byte> k0 = rk[0];
        Vector128<byte> kLast = rk[rounds];
        nuint off = 0;
        int i = 0;
        for (; i + 4 <= blocks; i += 4, off += 64)
        {
            Vector128<byte> a = Counter(hi, lo) ^ k0; Increment(ref hi, ref lo);
            Vector128<byte> b = Counter(hi, lo) ^ k0; Increment(ref hi, ref lo);
            Vector128<byte> c = Counter(hi, lo) ^ k0; Increment(ref hi, ref lo);
            Vector128<byte> d = Counter(hi, lo) ^ k0; Increment(ref hi, ref lo);
            for (int r = 1; r < rounds; r++)
            {
                Vector128<byte> k = rk[r];
                a = X86Aes.Encrypt(a, k);
                b = X86Aes.Encrypt(b, k);
                c = X86Aes.Encrypt(c, k);
                d = X86Aes.Encrypt(d, k);
            }
            X86Aes.EncryptLast(a, kLast).StoreUnsafe(ref dst, off);
            X86Aes.EncryptLast(b, kLast).StoreUnsafe(ref dst, off + 16);
            X86Aes.EncryptLast(c, kLast).StoreUnsafe(ref dst, off + 32);
            X86Aes.EncryptLast(d, kLast).StoreUnsafe(ref dst, off + 48);
        }
        for (; i < blocks; i++, off += 16)
        {
            Vector128<byte> a = Counter(hi, lo) ^ k0; Increment(ref hi, ref lo);
            for (int r = 1; r < rounds; r++) a = X86Aes.Encrypt(a, rk[r]);
            X86Aes.EncryptLast(a, kLast).StoreUnsafe(ref dst, off);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Counter(ulong hi, ulong lo) =>
        Ssse3.Shuffle(Vector128.Create(lo, hi).AsByte(), ReverseBytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Increment(ref ulong hi, ref ulong lo)
    {
        lo++;
        if (lo == 0) hi++;
    }
}
