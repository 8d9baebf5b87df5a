using System.Security.Cryptography;
using MtActors.Protocol.Handshake.Native;

namespace MtActors.Protocol.Handshake;

/// <summary>
/// The Diffie-Hellman group of the handshake: g = 3 and Telegram's published safe 2048-bit prime (spec §6.3),
/// which every client accepts. The prime's Montgomery context is computed once and shared.
/// </summary>
public sealed class DhGroup
{
    public const int PrimeBytes = 256;

    /// <summary>Telegram's dh_prime, big-endian.</summary>
    public static ReadOnlySpan<byte> TelegramPrime => s_telegramPrime;

    private static readonly byte[] s_telegramPrime = Convert.FromHexString(
        "C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37" +
        "20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F642477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4" +
        "A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4" +
        "E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B");

    private static readonly Lazy<DhGroup> s_telegram = new(() => new DhGroup(3, TelegramPrime));

    private readonly byte[] _prime;
    private readonly byte[] _lowerBound;  // 2^1984
    private readonly byte[] _upperBound;  // p - 2^1984
    private readonly byte[] _g;           // g as big-endian bytes
    private readonly MontgomeryModulus _modulus;

    private DhGroup(int g, ReadOnlySpan<byte> prime)
    {
        if (prime.Length != PrimeBytes || (prime[0] & 0x80) == 0) throw new ArgumentException("The DH prime must have 2048 bits.");
        G = g;
        _prime = prime.ToArray();
        _g = [(byte)g];
        _lowerBound = new byte[PrimeBytes];
        _lowerBound[PrimeBytes - 1 - 248] = 1; // 2^1984 = 2^(8*248)
        _upperBound = _prime.ToArray();
        // p - 2^1984: subtract 1 at byte 7 (from the top), borrowing upwards.
        for (int i = PrimeBytes - 1 - 248; i >= 0; i--)
        {
            if (_upperBound[i]-- != 0) break;
        }
        _modulus = new MontgomeryModulus(_prime);
    }

    /// <summary>g = 3 with Telegram's prime (what the samples, teamgram and gotd use).</summary>
    public static DhGroup Telegram => s_telegram.Value;

    public int G { get; }

    /// <summary>The prime, 256 big-endian bytes.</summary>
    public ReadOnlySpan<byte> Prime => _prime;

    /// <summary>
    /// Whether a 256-byte big-endian value lies in (2^1984, p - 2^1984), the range the spec requires of g_a and
    /// g_b (it implies 1 &lt; x &lt; p - 1).
    /// </summary>
    public bool IsInSafeRange(ReadOnlySpan<byte> value256)
    {
        if (value256.Length != PrimeBytes) return false;
        return value256.SequenceCompareTo(_lowerBound) > 0 && value256.SequenceCompareTo(_upperBound) < 0;
    }

    /// <summary>
    /// Draws the server's secret a (2048 random bits) and computes g_a = g^a mod p, drawing again until
    /// g_a is in the safe range (the chance of a redraw is about 2^-60).
    /// </summary>
    public void GenerateKeyPair(HandshakeRandom random, Span<byte> a, Span<byte> gA)
    {
        if (a.Length != PrimeBytes || gA.Length != PrimeBytes) throw new ArgumentException("a and g_a are 256 bytes.");
        for (int attempt = 0; ; attempt++)
        {
            if (attempt == 64) throw new CryptographicException("The random source keeps producing out-of-range g_a values.");
            random(a);
            _modulus.ModPow(_g, a, gA, secretExponent: true);
            if (IsInSafeRange(gA)) return;
        }
    }

    /// <summary>key = g_b^a mod p as exactly 256 big-endian bytes (left-padded with zeros).</summary>
    public void ComputeSharedKey(ReadOnlySpan<byte> gB, ReadOnlySpan<byte> a, Span<byte> key)
    {
        if (key.Length != PrimeBytes) throw new ArgumentException("The key is 256 bytes.", nameof(key));
        _modulus.ModPow(gB, a, key, secretExponent: true);
    }

    /// <summary>x^e mod p for any (public or secret) exponent: the benchmark and tests use it.</summary>
    internal void ModPow(ReadOnlySpan<byte> x, ReadOnlySpan<byte> e, Span<byte> result, bool secretExponent) =>
        _modulus.ModPow(x, e, result, secretExponent);
}

/// <summary>Fills a buffer with cryptographically strong random bytes (tests may pass a seeded one).</summary>
public delegate void HandshakeRandom(Span<byte> destination);
