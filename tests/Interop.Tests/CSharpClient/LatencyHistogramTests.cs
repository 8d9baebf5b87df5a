using MtActors.Client.Bench;

namespace MtActors.Interop.Tests.CSharpClient;

/// <summary>The bench's log-linear latency histogram (pure; no server).</summary>
public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_are_within_the_bucket_precision()
    {
        var h = new LatencyHistogram();
        for (long v = 1; v <= 100_000; v++) h.Record(v);
        Assert.Equal(100_000, h.Count);
        Assert.Equal(100_000, h.Max);
        Assert.InRange(h.Mean, 50_000, 50_001);
        Assert.InRange(h.Percentile(50), 50_000 * 0.984, 50_000 * 1.016);
        Assert.InRange(h.Percentile(99), 99_000 * 0.984, 99_000 * 1.016);
        Assert.Equal(100_000, h.Percentile(100));
        Assert.Equal(1, h.Percentile(0.0001));
    }

    [Fact]
    public void Small_values_are_exact_and_huge_ones_are_clamped()
    {
        var h = new LatencyHistogram();
        Assert.Equal(0, h.Percentile(50));
        foreach (var v in new long[] { 3, 3, 3, 7, 120 }) h.Record(v);
        Assert.Equal(3, h.Percentile(50));
        Assert.Equal(120, h.Percentile(100));
        h.Record(-5);
        h.Record(long.MaxValue / 2);
        Assert.Equal(long.MaxValue / 2, h.Max);
        Assert.Equal(7, h.Count);
    }

    [Fact]
    public void Concurrent_recording_loses_nothing()
    {
        var h = new LatencyHistogram();
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 10_000; i++) h.Record(i % 1000);
        });
        Assert.Equal(80_000, h.Count);
        Assert.Equal(999, h.Max);
    }
}
