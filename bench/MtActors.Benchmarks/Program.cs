using BenchmarkDotNet.Running;
using MtActors.Benchmarks;

// `ratio` runs paired, interleaved measurements (robust on a loaded machine); anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "ratio")
{
    PairedRatios.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
