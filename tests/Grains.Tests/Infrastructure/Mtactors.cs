using System.Diagnostics;

namespace MtActors.Grains.Tests.Infrastructure;

/// <summary>Runs the mtactors CLI in process and captures what it prints.</summary>
internal static class Mtactors
{
    public sealed record Result(int ExitCode, string Out, string Err, TimeSpan Elapsed)
    {
        /// <summary>Fails with what the CLI said unless it exited with <paramref name="expected"/>.</summary>
        public Result Expect(int expected)
        {
            Assert.True(ExitCode == expected, $"exit {ExitCode}, expected {expected}\nstdout: {Out}\nstderr: {Err}");
            return this;
        }
    }

    public static Task<Result> RunAsync(params string[] args) => RunAsync(false, args);

    /// <summary>Runs with <paramref name="terminal"/>: standard error treated as a terminal (progress lines).</summary>
    public static Task<Result> RunAsync(bool terminal, params string[] args) => RunAsync(terminal, CancellationToken.None, args);

    /// <summary>Runs until done or <paramref name="cancel"/> fires (as Ctrl-C does); bounded at 120 s anyway.</summary>
    public static async Task<Result> RunAsync(bool terminal, CancellationToken cancel, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var watch = Stopwatch.StartNew();
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        bound.CancelAfter(TimeSpan.FromSeconds(120));
        // No MTACTORS_CONNECTION from the test machine's environment: the tests say where the cluster is.
        var code = await global::MtActors.Client.Cli.RunAsync(args, output, error, _ => null, bound.Token, terminal);
        return new Result(code, output.ToString(), error.ToString(), watch.Elapsed);
    }
}
