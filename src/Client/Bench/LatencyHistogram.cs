using System.Diagnostics;
using System.Numerics;

namespace MtActors.Client.Bench;

/// <summary>
/// Latencies in microseconds in a log-linear bucket array (HDR-like): exact below 128 µs, then 64 buckets per power of
/// two (under 1.6 % relative error), up to about 2^40 µs. Recording is lock-free and thread-safe.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBits = 6;
    private const int Sub = 1 << SubBits;          // 64 buckets per power of two
    private const int Linear = 2 * Sub;            // exact up to 127
    private const int MaxShift = 34;
    private readonly long[] _counts = new long[Linear + MaxShift * Sub];
    private long _count;
    private long _max;
    private long _sum;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Largest value recorded (µs).</summary>
    public long Max => Interlocked.Read(ref _max);

    public double Mean => Count == 0 ? 0 : (double)Interlocked.Read(ref _sum) / Count;

    /// <summary>Records the time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/> value).</summary>
    public void RecordSince(long startTimestamp) =>
        Record((long)((Stopwatch.GetTimestamp() - startTimestamp) * 1_000_000.0 / Stopwatch.Frequency));

    public void Record(long micros)
    {
        if (micros < 0) micros = 0;
        Interlocked.Increment(ref _counts[Index(micros)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, micros);
        long max = Interlocked.Read(ref _max);
        while (micros > max)
        {
            long seen = Interlocked.CompareExchange(ref _max, micros, max);
            if (seen == max) break;
            max = seen;
        }
    }

    internal static int Index(long micros)
    {
        if (micros < Linear) return (int)micros;
        int msb = 63 - BitOperations.LeadingZeroCount((ulong)micros);
        int shift = msb - SubBits;                          // >= 1
        if (shift > MaxShift) return Linear + MaxShift * Sub - 1;
        int sub = (int)(micros >> shift) - Sub;             // 0..63
        return Linear + (shift - 1) * Sub + sub;
    }

    /// <summary>The middle of the bucket at <paramref name="index"/> (µs).</summary>
    internal static double ValueAt(int index)
    {
        if (index < Linear) return index;
        int shift = (index - Linear) / Sub + 1;
        long low = (long)((index - Linear) % Sub + Sub) << shift;
        return low + ((1L << shift) - 1) / 2.0;
    }

    /// <summary>The value below which <paramref name="percentile"/> % of the recorded values fall (µs), 0 when empty.</summary>
    public double Percentile(double percentile)
    {
        long total = Count;
        if (total == 0) return 0;
        if (percentile >= 100) return Max;
        long rank = Math.Max(1, (long)Math.Ceiling(total * percentile / 100.0));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank) return Math.Min(ValueAt(i), Max);
        }
        return Max;
    }
}
