using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using MtActors.Client.Commands;
using Npgsql;
using Orleans.Runtime;

namespace MtActors.Client;

/// <summary>The mtactors command line: builds the commands and runs them with one-line errors and exit codes.</summary>
public static partial class Cli
{
    /// <summary>The exit codes as --help lists them.</summary>
    internal const string ExitCodeHelp =
        "Exit codes: 0 done, 1 failure, 2 bad usage, 3 cluster or database unreachable, 4 not found, 5 timeout, " +
        "130 interrupted.";

    /// <summary>
    /// Runs the CLI with <paramref name="args"/>; returns the exit code (see <see cref="ExitCodes"/>).
    /// <paramref name="errorIsTerminal"/>: standard error is a terminal, so long operations may draw progress there.
    /// </summary>
    public static async Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, Func<string, string?>? environment = null,
        CancellationToken cancellationToken = default, bool errorIsTerminal = false)
    {
        var env = new CliEnvironment(output, error, environment ?? Environment.GetEnvironmentVariable, errorIsTerminal);
        var root = Build(env);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not HelpWithExamples)
        {
            var command = parse.CommandResult.Command;
            var path = command == root ? "mtactors" : "mtactors " + CommandPath(command, root);
            await error.WriteLineAsync($"error: {UsageError(parse, command)} (run `{path} --help` for usage)");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(
            new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false },
            cancellationToken);
    }

    /// <summary>The command tree (for help and tests).</summary>
    public static Command Build(TextWriter output, TextWriter error, Func<string, string?> environment) =>
        Build(new CliEnvironment(output, error, environment, false));

    private static Command Build(CliEnvironment env)
    {
        var g = new GlobalOptions(
            new Option<string?>("--connection", "-c")
            {
                Description = $"Npgsql connection string of the cluster's database (default: ${ClusterConnection.ConnectionVariable}, " +
                              "then the local silo's cluster.json)",
                HelpName = "connection-string",
                Recursive = true,
            },
            new Option<string?>("--cluster-id")
            {
                Description = "Orleans cluster id (default: from cluster.json, else 'mtactors')", Recursive = true,
            },
            new Option<string?>("--service-id")
            {
                Description = "Orleans service id; stored rows are keyed by it (default: from cluster.json, else 'mtactors')",
                Recursive = true,
            },
            new Option<string?>("--data-dir")
            {
                Description = "The local silo's data directory, with cluster.json and the RSA public key " +
                              "(default: $MTACTORS_DATA_DIR, else as the silo's)",
                HelpName = "path",
                Recursive = true,
            },
            new Option<bool>("--json") { Description = "Print one JSON object instead of text", Recursive = true },
            new Option<double>("--timeout")
            {
                Description = "Seconds to wait for the cluster: to connect, and for each call or query",
                DefaultValueFactory = _ => 10,
                HelpName = "seconds",
                Recursive = true,
            },
            new Option<bool>("--verbose", "-v") { Description = "Log the cluster client's progress to stderr", Recursive = true },
            new Option<bool>("--no-progress")
            {
                Description = "No progress line on stderr for long operations (shown only when stderr is a terminal)",
                Recursive = true,
            });
        g.Timeout.Validators.Add(r =>
        {
            if (r.TryGetValue(out double seconds) && !(seconds > 0 && seconds <= 3600))
            {
                r.AddError("--timeout must be more than 0 and at most 3600 seconds");
            }
        });

        // A plain command named mtactors (a RootCommand takes the host executable's name, e.g. dotnet's or a test host's).
        var root = new Command("mtactors",
            "mtactors: inspect and manage an MtActors cluster (MTProto sessions and auth keys kept by Orleans grains " +
            "in PostgreSQL).\n" +
            "Ids are 64-bit numbers, decimal or 0x-hex. With no --connection it talks to the silo of this machine " +
            "(through cluster.json in its data directory).\n" + ExitCodeHelp);
        var help = new HelpOption { Recursive = true };
        root.Options.Add(help);
        root.Options.Add(new VersionOption());
        foreach (var o in g.All)
        {
            root.Options.Add(o);
        }

        var examples = new Dictionary<Command, string[]>
        {
            [root] =
            [
                "mtactors stats                                   # silos, stored sessions and keys, activations",
                "mtactors sessions list --page-size 20            # the first 20 sessions of the cluster",
                "mtactors session show 0x1122334455667788 42      # one session's state",
                "mtactors authkey show 0x1122334455667788         # kind, creation, expiry, number of sessions",
                "mtactors rsa-key > server.pem                    # the public key MTProto clients must pin",
                "mtactors --connection \"Host=db;Database=mtactors;Username=mtactors\" stats --json",
            ],
        };
        var context = new CommandContext(g, env, examples);
        SessionCommands.Add(root, context);
        AuthKeyCommands.Add(root, context);
        StatsCommand.Add(root, context);
        RsaKeyCommand.Add(root, context);
        AddBench(root, context);

        help.Action = new HelpWithExamples((SynchronousCommandLineAction)help.Action!, examples);
        return root;
    }

    /// <summary>
    /// The load generator (src/Client/Bench, owned by the bench's author) adds its `bench` command here; without an
    /// implementation the command tree has no bench.
    /// </summary>
    static partial void AddBench(Command root, CommandContext context);

    /// <summary>
    /// The one thing to fix first, in one line: a word that is no command, option or argument here; a command group
    /// without its command; a missing argument; else the parser's first error (an id that is not a 64-bit number,
    /// a value out of range, options that cannot be combined, ...).
    /// </summary>
    private static string UsageError(ParseResult parse, Command command)
    {
        var commands = string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            return token.StartsWith('-') ? $"unknown option '{token}'"
                : command.Subcommands.Count > 0 ? $"unknown command '{token}' (commands: {commands})"
                : $"unexpected argument '{token}'";
        }

        if (command.Subcommands.Count > 0 && command.Action is null)
        {
            return $"a command is missing (commands: {commands})";
        }

        var missing = command.Arguments.FirstOrDefault(a => a.Arity.MinimumNumberOfValues > 0 && parse.GetResult(a) is not { Tokens.Count: > 0 });
        if (missing is not null)
        {
            return $"<{missing.Name}> is missing";
        }

        // A value that does not convert gets the parser's "Cannot parse argument 'abc' for option '--page' as expected
        // type 'System.Int32'" and, from the options' validators (Arguments.TryGetValue), a plainer line: that one wins.
        var plain = parse.Errors.FirstOrDefault(e => !e.Message.StartsWith("Cannot parse argument", StringComparison.Ordinal));
        return string.Join(' ', (plain ?? parse.Errors[0]).Message.Split((char[])[' ', '\t', '\r', '\n'],
            StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.');
    }

    private static string CommandPath(Command command, Command root)
    {
        var names = new List<string>();
        for (var c = command; c is not null && c != root; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, c.Name);
        }

        return string.Join(' ', names);
    }

    /// <summary>
    /// Runs one command's body with the errors every command shares turned into one line on stderr and an exit code:
    /// <see cref="CliException"/> (its code), a call that timed out (5), a silo gone (3), an unreachable database (3),
    /// a database query timeout (5), Ctrl-C (130), anything else (1).
    /// </summary>
    internal static async Task<int> Execute(
        ParseResult parse, CommandContext context, CancellationToken ct, Func<Invocation, Task<int>> body)
    {
        var error = context.Environment.Error;
        var invocation = new Invocation(parse, context.Options, context.Environment, ct);
        var verbose = invocation.Verbose;
        try
        {
            try
            {
                return await body(invocation);
            }
            finally
            {
                await invocation.DisposeAsync();
            }
        }
        catch (CliException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            if (verbose && ex.InnerException is { } inner)
            {
                await error.WriteLineAsync(inner.ToString());
            }

            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await error.WriteLineAsync("error: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (TimeoutException ex)
        {
            await error.WriteLineAsync(
                $"error: the cluster did not answer within {invocation.Timeout.TotalSeconds:0.#} s (--timeout)");
            if (verbose)
            {
                await error.WriteLineAsync(ex.ToString());
            }

            return ExitCodes.Timeout;
        }
        catch (SiloUnavailableException ex)
        {
            await error.WriteLineAsync($"error: the silo became unavailable: {OneLine(ex)}");
            return ExitCodes.NoCluster;
        }
        catch (NpgsqlException ex) when (ClusterClientFactory.FindInner<TimeoutException>(ex) is not null ||
                                         ex.InnerException is OperationCanceledException)
        {
            await error.WriteLineAsync(
                $"error: the database did not answer within {invocation.Timeout.TotalSeconds:0.#} s (--timeout)");
            return ExitCodes.Timeout;
        }
        catch (NpgsqlException ex)
        {
            await error.WriteLineAsync($"error: database error: {OneLine(ex)}");
            if (verbose)
            {
                await error.WriteLineAsync(ex.ToString());
            }

            return ExitCodes.NoCluster;
        }
        catch (Exception ex)
        {
            await error.WriteLineAsync($"error: {OneLine(ex)}");
            if (verbose)
            {
                await error.WriteLineAsync(ex.ToString());
            }

            return ExitCodes.Failure;
        }
    }

    internal static string OneLine(Exception ex) => ex.Message.ReplaceLineEndings(" ").Trim();

    /// <summary>The standard help, then the command's examples and the exit codes.</summary>
    private sealed class HelpWithExamples(SynchronousCommandLineAction inner, Dictionary<Command, string[]> examples)
        : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var result = inner.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            var command = parseResult.CommandResult.Command;
            if (examples.TryGetValue(command, out var lines) && lines.Length > 0)
            {
                output.WriteLine("Examples:");
                foreach (var line in lines)
                {
                    output.WriteLine("  " + line);
                }

                output.WriteLine();
            }

            if (command.Parents.Any())
            {
                output.WriteLine(ExitCodeHelp);
                output.WriteLine();
            }

            return result;
        }
    }
}

/// <summary>What a command needs to build itself: the global options, the process environment, the examples.</summary>
internal sealed record CommandContext(GlobalOptions Options, CliEnvironment Environment, Dictionary<Command, string[]> Examples)
{
    /// <summary>Sets <paramref name="command"/>'s action to <paramref name="body"/> with the shared error handling.</summary>
    public void Action(Command command, Func<Invocation, Task<int>> body) =>
        command.SetAction((parse, ct) => Cli.Execute(parse, this, ct, body));

    /// <summary>Registers <paramref name="command"/>'s examples for --help.</summary>
    public void Example(Command command, params string[] lines) => Examples[command] = lines;

    /// <summary>A command with its arguments and options and its --help examples (the action: <see cref="Action"/>).</summary>
    public Command Command(string name, string description, Symbol[] arguments, params string[] examples)
    {
        var command = new Command(name, description);
        foreach (var symbol in arguments)
        {
            if (symbol is Argument argument)
            {
                command.Arguments.Add(argument);
            }
            else
            {
                command.Options.Add((Option)symbol);
            }
        }

        Example(command, examples);
        return command;
    }

    /// <summary>Adds a command group (e.g. <c>session list | show | destroy</c>) to <paramref name="root"/>.</summary>
    public void Group(Command root, string name, string[] aliases, string description, Command[] subcommands, params string[] examples)
    {
        var group = new Command(name, description);
        foreach (var alias in aliases)
        {
            group.Aliases.Add(alias);
        }

        foreach (var subcommand in subcommands)
        {
            group.Subcommands.Add(subcommand);
        }

        Example(group, examples);
        root.Subcommands.Add(group);
    }
}
