using System.Buffers.Binary;

namespace MtActors.Protocol.Handshake;

/// <summary>
/// The proof-of-work numbers of resPQ: pq = p * q with p &lt; q two random distinct primes of 31 bits
/// (2^30 &lt; p, q &lt; 2^31), so pq &lt; 2^62 (the spec allows up to 2^63 - 1).
/// </summary>
public static class PqGenerator
{
    private const uint Low = 1u << 30;

    /// <summary>Draws p &lt; q, both prime in [2^30, 2^31).</summary>
    public static (uint P, uint Q) Generate(HandshakeRandom random)
    {
        uint p = RandomPrime(random);
        uint q;
        do
        {
            q = RandomPrime(random);
        } while (q == p);
        return p < q ? (p, q) : (q, p);
    }

    private static uint RandomPrime(HandshakeRandom random)
    {
        Span<byte> b = stackalloc byte[4];
        while (true)
        {
            random(b);
            // Top bit of 31 set, odd: a candidate in [2^30, 2^31). About 1 in 11 odd numbers of this size is prime.
            uint candidate = (BinaryPrimitives.ReadUInt32LittleEndian(b) & (Low - 1)) | Low | 1;
            if (IsPrime(candidate)) return candidate;
        }
    }

    /// <summary>
    /// Deterministic Miller-Rabin for every 64-bit n: bases 2, 7, 61 up to 2^32 (correct below 4,759,123,141; 64-bit arithmetic),
    /// bases 2..37 above (enough below 3.3 * 10^24).
    /// </summary>
    public static bool IsPrime(ulong n)
    {
        if (n < 2) return false;
        ReadOnlySpan<byte> small = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
        foreach (byte sp in small)
        {
            if (n % sp == 0) return n == sp;
        }
        ulong d = n - 1;
        int s = System.Numerics.BitOperations.TrailingZeroCount(d);
        d >>= s;
        if (n <= uint.MaxValue)
        {
            return StrongProbablePrime32((uint)n, 2, d, s) && StrongProbablePrime32((uint)n, 7, d, s) && StrongProbablePrime32((uint)n, 61, d, s);
        }
        foreach (byte a in small)
        {
            ulong x = PowMod(a, d, n);
            if (x == 1 || x == n - 1) continue;
            bool composite = true;
            for (int r = 1; r < s; r++)
            {
                x = MulMod(x, x, n);
                if (x == n - 1)
                {
                    composite = false;
                    break;
                }
            }
            if (composite) return false;
        }
        return true;
    }

    private static bool StrongProbablePrime32(uint n, uint a, ulong d, int s)
    {
        ulong result = 1, b = a % n, e = d;
        if (b == 0) return true; // n == a: nothing to learn from this base
        while (e != 0)
        {
            if ((e & 1) != 0) result = result * b % n;
            b = b * b % n;
            e >>= 1;
        }
        if (result == 1 || result == n - 1) return true;
        for (int r = 1; r < s; r++)
        {
            result = result * result % n;
            if (result == n - 1) return true;
        }
        return false;
    }

    private static ulong MulMod(ulong a, ulong b, ulong m) => (ulong)((UInt128)a * b % m);

    private static ulong PowMod(ulong b, ulong e, ulong m)
    {
        ulong result = 1;
        b %= m;
        while (e != 0)
        {
            if ((e & 1) != 0) result = MulMod(result, b, m);
            b = MulMod(b, b, m);
            e >>= 1;
        }
        return result;
    }

    /// <summary>Minimal big-endian bytes of a positive number (as pq, p and q travel in TL strings).</summary>
    public static byte[] ToBigEndian(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        int i = 0;
        while (i < 7 && b[i] == 0) i++;
        return b[i..].ToArray();
    }

    /// <summary>
    /// Reads an unsigned big-endian number of any length (leading zeros allowed, as some clients send minimal
    /// and others padded forms). False when empty or larger than 64 bits.
    /// </summary>
    public static bool TryReadBigEndian(ReadOnlySpan<byte> bytes, out ulong value)
    {
        value = 0;
        int i = 0;
        while (i < bytes.Length && bytes[i] == 0) i++;
        if (bytes.Length == 0 || bytes.Length - i > 8) return false;
        for (; i < bytes.Length; i++) value = (value << 8) | bytes[i];
        return true;
    }
}
