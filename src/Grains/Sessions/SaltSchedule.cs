using System.Buffers.Binary;
using System.Collections.Immutable;
using MtActors.Protocol.Crypto;

namespace MtActors.Grains.Sessions;

/// <summary>
/// Server salts of one auth key, as a pure function of the key's secret 32-byte seed and the time:
/// the salt of period e (periods of 30 minutes since the unix epoch) is the first 8 bytes of
/// HMAC-SHA256(seed, "mtactors-salt" || e) read as int64 LE (0 is skipped: clients send 0 before
/// they know a salt). Nothing about salts has to be written per session or per rotation: the seed is
/// stored once with the key, every session and every silo computes the same salts, and a restart
/// or a move can never lose or change one.
/// Acceptance: a salt is accepted while now lies in [valid_since, valid_until + 1800 s], i.e. the
/// current period's salt and the previous one (its 1800 s of grace); the handshake's initial salt is
/// accepted during the key's first period and its grace.
/// </summary>
public static class SaltSchedule
{
    /// <summary>Rotation period and grace, seconds (spec 4.2: every 30 minutes, previous salt accepted 1800 s more).</summary>
    public const int PeriodSeconds = 1800;
    public const int GraceSeconds = 1800;

    /// <summary>get_future_salts answers at most 64 salts.</summary>
    public const int MaxFutureSalts = 64;

    /// <summary>...and at least 3, whatever num asks (a client asking for 1 still gets the next two).</summary>
    public const int MinFutureSalts = 3;

    private static ReadOnlySpan<byte> Label => "mtactors-salt"u8;

    public static long PeriodOf(DateTimeOffset now) => Math.DivRem(now.ToUnixTimeSeconds(), PeriodSeconds, out long rem) - (rem < 0 ? 1 : 0);

    public static long SaltOf(ReadOnlySpan<byte> seed, long period)
    {
        Span<byte> input = stackalloc byte[Label.Length + 8];
        Label.CopyTo(input);
        BinaryPrimitives.WriteInt64LittleEndian(input[Label.Length..], period);
        Span<byte> mac = stackalloc byte[32];
        Sha256.Hmac(seed, input, mac);
        long salt = BinaryPrimitives.ReadInt64LittleEndian(mac);
        return salt == 0 ? 1 : salt;
    }

    public static long Current(ReadOnlySpan<byte> seed, DateTimeOffset now) => SaltOf(seed, PeriodOf(now));

    /// <summary>Whether <paramref name="salt"/> may be used at <paramref name="now"/>.</summary>
    public static bool IsAccepted(ReadOnlySpan<byte> seed, long salt, DateTimeOffset now, long? initialSalt, DateTimeOffset keyCreatedAt)
    {
        long period = PeriodOf(now);
        if (salt == SaltOf(seed, period) || salt == SaltOf(seed, period - 1)) return true;
        return IsInitialAccepted(salt, now, initialSalt, keyCreatedAt);
    }

    /// <summary>The handshake's initial salt: accepted during the key's first period and its grace.</summary>
    internal static bool IsInitialAccepted(long salt, DateTimeOffset now, long? initialSalt, DateTimeOffset keyCreatedAt) =>
        initialSalt is { } initial && salt == initial
            && now >= keyCreatedAt.AddSeconds(-30)
            && now <= keyCreatedAt.AddSeconds(PeriodSeconds + GraceSeconds);

    /// <summary>The current salt and the next ones: <paramref name="count"/> clamped to 3..64.</summary>
    public static ImmutableArray<FutureSalt> Future(ReadOnlySpan<byte> seed, DateTimeOffset now, int count)
    {
        count = Math.Clamp(count, MinFutureSalts, MaxFutureSalts);
        long first = PeriodOf(now);
        var salts = ImmutableArray.CreateBuilder<FutureSalt>(count);
        for (long p = first; p < first + count; p++)
        {
            salts.Add(new FutureSalt((int)(p * PeriodSeconds), (int)((p + 1) * PeriodSeconds), SaltOf(seed, p)));
        }
        return salts.MoveToImmutable();
    }
}

/// <summary>
/// The current and the previous salt of one seed, computed when the period (or the seed) changes: a frame then costs
/// no HMAC at all instead of three (one for the current salt, two for the acceptance check). Same answers as
/// <see cref="SaltSchedule.Current"/> and <see cref="SaltSchedule.IsAccepted"/>. Not thread-safe (one per session).
/// </summary>
public sealed class SaltCache
{
    private byte[]? _seed;
    private long _period;
    private long _current;
    private long _previous;

    /// <inheritdoc cref="SaltSchedule.Current"/>
    public long Current(ReadOnlySpan<byte> seed, DateTimeOffset now)
    {
        Refresh(seed, now);
        return _current;
    }

    /// <inheritdoc cref="SaltSchedule.IsAccepted"/>
    public bool IsAccepted(ReadOnlySpan<byte> seed, long salt, DateTimeOffset now, long? initialSalt, DateTimeOffset keyCreatedAt)
    {
        Refresh(seed, now);
        return salt == _current || salt == _previous || SaltSchedule.IsInitialAccepted(salt, now, initialSalt, keyCreatedAt);
    }

    private void Refresh(ReadOnlySpan<byte> seed, DateTimeOffset now)
    {
        long period = SaltSchedule.PeriodOf(now);
        bool sameSeed = _seed is not null && seed.SequenceEqual(_seed);
        if (sameSeed && period == _period) return;
        _previous = sameSeed && period == _period + 1 ? _current : SaltSchedule.SaltOf(seed, period - 1);
        _current = SaltSchedule.SaltOf(seed, period);
        if (!sameSeed) _seed = seed.ToArray();
        _period = period;
    }
}
