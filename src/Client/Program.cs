using MtActors.Client;

// mtactors: the MtActors cluster client (see `mtactors --help` and README.md).
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
try
{
    return await Cli.RunAsync(args, Console.Out, Console.Error, cancellationToken: cts.Token,
        errorIsTerminal: !Console.IsErrorRedirected);
}
catch (Exception ex)
{
    // Only for what Cli.RunAsync cannot catch itself (a broken installation): still one line, never a stack trace.
    Console.Error.WriteLine($"error: {ex.GetBaseException().Message.ReplaceLineEndings(" ")}");
    return ExitCodes.Failure;
}
