using System.Diagnostics;

namespace MtActors.Benchmarks;

/// <summary>
/// Ratios of two operations measured alternately in many short rounds, reporting the ratio of the
/// fastest rounds (least disturbed by other processes) and the median of per-round ratios. Uses the
/// same benchmark classes as BenchmarkDotNet.
/// </summary>
internal static class PairedRatios
{
    public static void Run()
    {
        foreach (int size in new[] { 64, 1024 })
        {
            var ige = new IgeVsCbc { Size = size };
            ige.Setup();
            Report($"IGE encrypt (per call) / CBC encrypt, {size} B", ige.IgeEncryptPerCall, () => ige.CbcEncrypt());
            Report($"IGE encrypt (expanded) / CBC encrypt, {size} B", ige.IgeEncryptExpanded, () => ige.CbcEncrypt());
            Report($"IGE decrypt (per call) / CBC decrypt, {size} B", ige.IgeDecryptPerCall, () => ige.CbcDecrypt());
            Report($"IGE decrypt (expanded) / CBC decrypt, {size} B", ige.IgeDecryptExpanded, () => ige.CbcDecrypt());
            ige.Cleanup();
        }
        foreach (int size in new[] { 64, 1024 })
        {
            var message = new MessageVsPrimitives { BodySize = size };
            message.Setup();
            Report($"message encrypt+decrypt / primitives, body {size} B", () => message.EncryptAndDecrypt(), message.SumOfPrimitives);
            Report($"message encrypt+decrypt / primitives on .NET's reused IncrementalHash, body {size} B", () => message.EncryptAndDecrypt(), message.SumOfPrimitivesIncrementalSha);
            Report($"message encrypt+decrypt / primitives on .NET's one-shot SHA256, body {size} B", () => message.EncryptAndDecrypt(), message.SumOfPrimitivesOneShotSha);
        }
    }

    internal static void Report(string name, Action a, Action b)
    {
        const int Rounds = 400;
        // Warm up by time, not count: on a loaded machine the tier-1 recompilation arrives late.
        long warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency; // 1 s
        while (Stopwatch.GetTimestamp() < warmUntil) { a(); b(); }
        int iterations = Calibrate(a);
        var ta = new double[Rounds];
        var tb = new double[Rounds];
        var ratios = new double[Rounds];
        for (int r = 0; r < Rounds; r++)
        {
            if ((r & 1) == 0) { ta[r] = Time(a, iterations); tb[r] = Time(b, iterations); }
            else { tb[r] = Time(b, iterations); ta[r] = Time(a, iterations); }
            ratios[r] = ta[r] / tb[r];
        }
        Array.Sort(ratios);
        double minA = ta.Min(), minB = tb.Min();
        Console.WriteLine($"{name,-68} min A {minA,9:F1} ns  min B {minB,9:F1} ns  ratio(min) {minA / minB,5:F2}  ratio(median) {ratios[Rounds / 2],5:F2}");
    }

    private static int Calibrate(Action a)
    {
        int n = 1;
        while (Time(a, n) * n < 50_000) n *= 2; // rounds of ~50 µs
        return n;
    }

    private static double Time(Action action, int iterations)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++) action();
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations;
    }
}
