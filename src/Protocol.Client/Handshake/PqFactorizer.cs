using System.Numerics;

namespace MtActors.Protocol.Client.Handshake;

/// <summary>
/// Splits the handshake's proof-of-work number pq (at most 2^63 - 1, spec §6.1) into its two prime factors with
/// Brent's variant of Pollard's rho (microseconds for the 32-bit primes servers use).
/// </summary>
public static class PqFactorizer
{
    /// <summary>
    /// Finds p &lt; q with p * q == pq, both greater than 1. Returns false for values that are not such a product
    /// (0, 1, a prime, or too large).
    /// </summary>
    public static bool TryFactor(ulong pq, out ulong p, out ulong q)
    {
        p = q = 0;
        if (pq < 4 || pq > long.MaxValue) return false;
        ulong d;
        if ((pq & 1) == 0)
        {
            d = 2;
        }
        else
        {
            d = 0;
            for (ulong c = 1; c < 64 && d == 0; c++) d = Brent(pq, c);
            if (d == 0) return false;
        }
        ulong other = pq / d;
        if (d * other != pq || d == 1 || other == 1) return false;
        (p, q) = d < other ? (d, other) : (other, d);
        return true;
    }

    /// <summary>A non-trivial divisor of odd n, or 0 when this constant c failed (or n looks prime).</summary>
    private static ulong Brent(ulong n, ulong c)
    {
        const int Batch = 128;
        ulong y = 2, x = 2, ys = 2, g = 1, r = 1, qAcc = 1;
        // Bound the work: a 63-bit semiprime with a 32-bit factor needs about 2^16 steps.
        const ulong MaxSteps = 1UL << 24;
        ulong steps = 0;
        while (g == 1)
        {
            x = y;
            for (ulong i = 0; i < r; i++) y = Step(y, c, n);
            ulong k = 0;
            while (k < r && g == 1)
            {
                ys = y;
                ulong limit = Math.Min(Batch, r - k);
                for (ulong i = 0; i < limit; i++)
                {
                    y = Step(y, c, n);
                    qAcc = MulMod(qAcc, x > y ? x - y : y - x, n);
                }
                g = Gcd(qAcc, n);
                k += limit;
                steps += limit;
                if (steps > MaxSteps) return 0;
            }
            r <<= 1;
        }
        if (g == n)
        {
            // The batch overshot: walk it again one step at a time.
            do
            {
                ys = Step(ys, c, n);
                g = Gcd(x > ys ? x - ys : ys - x, n);
            } while (g == 1);
        }
        return g == n ? 0 : g;
    }

    private static ulong Step(ulong y, ulong c, ulong n) => (ulong)(((UInt128)y * y + c) % n);

    private static ulong MulMod(ulong a, ulong b, ulong n) => (ulong)((UInt128)a * b % n);

    private static ulong Gcd(ulong a, ulong b)
    {
        if (a == 0) return b;
        if (b == 0) return a;
        int shift = BitOperations.TrailingZeroCount(a | b);
        a >>= BitOperations.TrailingZeroCount(a);
        do
        {
            b >>= BitOperations.TrailingZeroCount(b);
            if (a > b) (a, b) = (b, a);
            b -= a;
        } while (b != 0);
        return a << shift;
    }

    /// <summary>Minimal big-endian bytes of a value (as TL carries pq, p and q).</summary>
    public static byte[] ToBigEndian(ulong value)
    {
        int bytes = Math.Max(1, 8 - BitOperations.LeadingZeroCount(value) / 8);
        var result = new byte[bytes];
        for (int i = bytes - 1; i >= 0; i--)
        {
            result[i] = (byte)value;
            value >>= 8;
        }
        return result;
    }

    /// <summary>Reads an unsigned big-endian number of at most 8 significant bytes.</summary>
    public static bool TryReadBigEndian(ReadOnlySpan<byte> bytes, out ulong value)
    {
        value = 0;
        int i = 0;
        while (i < bytes.Length && bytes[i] == 0) i++;
        if (bytes.Length - i > 8) return false;
        for (; i < bytes.Length; i++) value = (value << 8) | bytes[i];
        return true;
    }
}
