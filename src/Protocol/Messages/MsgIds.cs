namespace MtActors.Protocol.Messages;

/// <summary>
/// Server-side msg_id generation: upper 32 bits unix seconds, lower 32 bits the sub-second fraction,
/// odd (% 4 == 1 for answers to a client message, % 4 == 3 otherwise), strictly increasing.
/// </summary>
public static class MsgIds
{
    /// <summary>The msg_id for a moment in time, before parity and monotonicity are applied.</summary>
    public static long FromTime(DateTimeOffset now)
    {
        long ticks = now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks; // 100 ns units
        long seconds = ticks / TimeSpan.TicksPerSecond;
        long fraction = ticks % TimeSpan.TicksPerSecond;
        // fraction / 1e7 * 2^32
        long low = (long)(((ulong)fraction << 32) / (ulong)TimeSpan.TicksPerSecond);
        return (seconds << 32) | low;
    }

    /// <summary>Unix seconds carried in a msg_id.</summary>
    public static long Seconds(long msgId) => (long)((ulong)msgId >> 32);

    /// <summary>
    /// The next server msg_id after <paramref name="last"/> (0 if none yet): time-based, odd with the
    /// requested residue mod 4, and strictly greater than <paramref name="last"/> even when the clock
    /// stands still or goes back.
    /// </summary>
    public static long NextServer(long last, DateTimeOffset now, bool isResponse)
    {
        long residue = isResponse ? 1 : 3;
        long candidate = (FromTime(now) & ~3L) | residue;
        if (candidate <= last)
        {
            candidate = (last & ~3L) | residue;
            if (candidate <= last) candidate += 4;
        }
        return candidate;
    }
}
