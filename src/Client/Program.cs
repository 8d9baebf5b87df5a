using MtActors.Client;

// mtactors: the MtActors cluster client (see `mtactors --help` and README.md).
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
return await Cli.RunAsync(args, Console.Out, Console.Error, cancellationToken: cts.Token);
