using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using MtActors.Silo.Options;

namespace MtActors.Silo.Hosting;

/// <summary>The silo executable's commands: run the silo (default), <c>migrate</c>, <c>--help</c>.</summary>
public static class SiloCommands
{
    /// <summary>Exit code: success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code: the silo or the migration failed at run time (database unreachable, start failure).</summary>
    public const int Failed = 1;

    /// <summary>Exit code: bad command line or configuration.</summary>
    public const int BadUsage = 2;

    private const string Usage = """
        MtActors silo: the MTProto 2.0 session layer on Microsoft Orleans.

        Usage:
          MtActors.Silo [--MtActors:Setting=value ...]      run a silo (Ctrl-C or SIGTERM stops it gracefully)
          MtActors.Silo migrate [--connection <string>]     apply the database schema and exit
          MtActors.Silo --help

        With no ConnectionStrings:MtActors the silo runs its own PostgreSQL in the data directory
        (initdb on first run). Settings: see README.md, "Configuration".
        """;

    /// <summary>Runs the command given by <paramref name="args"/> and returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] is "--help" or "-h" or "help" or "-?")
        {
            Console.Out.WriteLine(Usage);
            return Ok;
        }

        if (args.Length > 0 && args[0] == "migrate")
        {
            return await MigrateAsync(args[1..]);
        }

        WebApplication app;
        try
        {
            app = SiloHost.Build(args);
        }
        catch (SiloConfigurationException ex)
        {
            foreach (var problem in ex.Problems)
            {
                Console.Error.WriteLine($"configuration error: {problem}");
            }

            return BadUsage;
        }

        await using (app)
        {
            // Graceful shutdown (SIGTERM, Ctrl-C) gets ShutdownTimeoutSeconds; should it hang past that (say, the
            // database vanished under the silo), the process still ends, after stopping the embedded PostgreSQL.
            var grace = TimeSpan.FromSeconds(app.Services.GetRequiredService<IOptions<MtActorsOptions>>().Value
                .ShutdownTimeoutSeconds + 15);
            app.Lifetime.ApplicationStopping.Register(() => _ = Task.Delay(grace).ContinueWith(_ =>
            {
                Console.Error.WriteLine($"error: shutdown did not finish within {grace.TotalSeconds:0} s; exiting");
                app.Services.GetRequiredService<DatabaseSettings>().Embedded?.Dispose();
                Environment.Exit(Failed);
            }, TaskScheduler.Default));
            try
            {
                await app.RunAsync();
                return Ok;
            }
            catch (OptionsValidationException ex)
            {
                Console.Error.WriteLine($"configuration error: {string.Join(" ", ex.Failures)}");
                return BadUsage;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"error: the silo stopped: {Flatten(ex)}");
                return Failed;
            }
        }
    }

    private static async Task<int> MigrateAsync(string[] args)
    {
        string? connection = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--connection" or "-c" && i + 1 < args.Length)
            {
                connection = args[++i];
            }
            else if (args[i].StartsWith("--connection=", StringComparison.Ordinal))
            {
                connection = args[i]["--connection=".Length..];
            }
            else if (args[i] is "--help" or "-h")
            {
                Console.Out.WriteLine("Usage: MtActors.Silo migrate [--connection <Npgsql connection string>]\n" +
                                      "Without --connection: ConnectionStrings__MtActors from the environment.");
                return Ok;
            }
            else
            {
                Console.Error.WriteLine($"error: unknown argument '{args[i]}' (usage: migrate --connection <string>)");
                return BadUsage;
            }
        }

        connection ??= new ConfigurationBuilder().AddEnvironmentVariables().Build()
            .GetConnectionString(MtActorsOptions.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connection))
        {
            Console.Error.WriteLine(
                "error: migrate needs --connection \"Host=...;Database=...;Username=...;Password=...\" " +
                "(or ConnectionStrings__MtActors in the environment)");
            return BadUsage;
        }

        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(c => c.SingleLine = true));
        var logger = loggerFactory.CreateLogger("MtActors.Migrate");
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        try
        {
            await Schema.ApplyAsync(connection, logger, cts.Token);
            Console.Out.WriteLine($"schema applied to {ClusterFile.Redact(connection)}");
            return Ok;
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"error: bad connection string: {ex.Message}");
            return BadUsage;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: migration of {ClusterFile.Redact(connection)} failed: {Flatten(ex)}");
            return Failed;
        }
    }

    /// <summary>The messages of an exception and its inner exceptions on one line.</summary>
    internal static string Flatten(Exception ex)
    {
        var parts = new List<string>();
        for (Exception? e = ex; e is not null && parts.Count < 4; e = e.InnerException)
        {
            if (e is AggregateException { InnerExceptions.Count: 1 } agg)
            {
                e = agg.InnerExceptions[0];
            }

            var m = e.Message.ReplaceLineEndings(" ").Trim();
            if (parts.Count == 0 || !parts[^1].Contains(m, StringComparison.Ordinal))
            {
                parts.Add(m);
            }
        }

        return string.Join(" -> ", parts);
    }
}
