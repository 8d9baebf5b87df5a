using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime;

namespace MtActors.Client;

/// <summary>A connected Orleans cluster client; disposing it disconnects (bounded).</summary>
internal sealed class ConnectedClient(IHost host) : IAsyncDisposable
{
    public IClusterClient Client { get; } = host.Services.GetRequiredService<IClusterClient>();

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await host.StopAsync(stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or OrleansException or ObjectDisposedException)
        {
            // Leaving anyway: the silo notices the client is gone.
        }

        if (host is IAsyncDisposable d)
        {
            await d.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }
}

/// <summary>Connects an Orleans client through ADO.NET clustering on PostgreSQL, with every wait bounded.</summary>
internal static class ClusterClientFactory
{
    /// <summary>
    /// Connects within <paramref name="timeout"/>; every grain call then times out after <paramref name="responseTimeout"/>
    /// (default: <paramref name="timeout"/>).
    /// </summary>
    public static async Task<ConnectedClient> ConnectAsync(
        ClusterConnection connection, TimeSpan timeout, bool verbose, TextWriter log, CancellationToken cancellationToken,
        TimeSpan? responseTimeout = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (verbose)
        {
            builder.Logging.AddProvider(new TextWriterLoggerProvider(log));
            builder.Logging.SetMinimumLevel(LogLevel.Information);
        }

        var connectionString = Bounded(connection.ConnectionString, timeout);
        var attempts = 0;
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = connection.ClusterId;
                o.ServiceId = connection.ServiceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = responseTimeout ?? timeout);
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            // A few quick retries (a silo may be joining), always within the overall deadline.
            client.UseConnectionRetryFilter(async (exception, ct) =>
            {
                if (++attempts >= 3 || IsDatabaseProblem(exception))
                {
                    return false;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
                return true;
            });
        });

        var host = builder.Build();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await host.StartAsync(deadline.Token).WaitAsync(deadline.Token);
            return new ConnectedClient(host);
        }
        catch (Exception ex)
        {
            await new ConnectedClient(host).DisposeAsync();
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new CliException(ExitCodes.NoCluster, Explain(ex, connection, timeout), ex);
        }
    }

    private static string Explain(Exception ex, ClusterConnection connection, TimeSpan timeout)
    {
        var where = $"cluster '{connection.ClusterId}' ({connection.Describe()}, from {connection.Source})";
        if (ex is OperationCanceledException or TimeoutException)
        {
            return $"cannot reach {where}: no answer within {timeout.TotalSeconds:0.#} s";
        }

        if (IsDatabaseProblem(ex))
        {
            return ExplainDatabase(ex, where, timeout);
        }

        return $"cannot reach {where}: no silo answers ({Innermost(ex).Message.ReplaceLineEndings(" ").TrimEnd('.')})";
    }

    /// <summary>One line saying why the database could not be used (no secrets: <paramref name="where"/> is redacted).</summary>
    internal static string ExplainDatabase(Exception ex, string where, TimeSpan timeout)
    {
        if (Find<PostgresException>(ex) is { SqlState: "42P01" or "42883" })
        {
            return $"cannot use {where}: the database has no MtActors schema (run the silo's migrate command)";
        }

        if (Find<PostgresException>(ex) is { } pg)
        {
            return $"cannot reach {where}: the database refused: {pg.MessageText}";
        }

        if (Find<TimeoutException>(ex) is not null)
        {
            return $"cannot reach {where}: the database did not answer within {timeout.TotalSeconds:0.#} s";
        }

        return $"cannot reach {where}: the database is not reachable ({Innermost(ex).Message.TrimEnd('.')})";
    }

    internal static T? FindInner<T>(Exception ex) where T : Exception => Find<T>(ex);

    private static bool IsDatabaseProblem(Exception ex) => Find<NpgsqlException>(ex) is not null;

    private static T? Find<T>(Exception ex) where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T t)
            {
                return t;
            }

            if (e is AggregateException agg)
            {
                foreach (var inner in agg.InnerExceptions)
                {
                    if (Find<T>(inner) is { } found)
                    {
                        return found;
                    }
                }
            }
        }

        return null;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null && ex is not SocketException)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    /// <summary>The connection string with connect and command timeouts no longer than the CLI's deadline.</summary>
    internal static string Bounded(string connectionString, TimeSpan timeout)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        var seconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        if (b.Timeout <= 0 || b.Timeout > seconds)
        {
            b.Timeout = seconds;
        }

        if (b.CommandTimeout <= 0 || b.CommandTimeout > seconds)
        {
            b.CommandTimeout = seconds;
        }

        return b.ConnectionString;
    }

    /// <summary>--verbose: the client's own log lines, to standard error.</summary>
    private sealed class TextWriterLoggerProvider(TextWriter writer) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(writer, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(TextWriter writer, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
                Func<TState, Exception?, string> formatter)
            {
                lock (writer)
                {
                    writer.WriteLine($"{logLevel}: {category}: {formatter(state, exception)}");
                }
            }
        }
    }
}
