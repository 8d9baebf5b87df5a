using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MtActors.Silo.Hosting;
using Npgsql;
using Orleans.Runtime;

namespace MtActors.Silo.Observability;

/// <summary>Ready when this silo is Active in the cluster (it joined the membership table and serves grains).</summary>
internal sealed class OrleansSiloHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Resolved per check: the oracle exists once the silo's services are built.
        var oracle = services.GetService(typeof(ISiloStatusOracle)) as ISiloStatusOracle;
        if (oracle is null)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("no Orleans silo in this process"));
        }

        var status = oracle.CurrentStatus;
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo {oracle.SiloName} is Active")
            : HealthCheckResult.Unhealthy($"silo {oracle.SiloName} is {status}"));
    }
}

/// <summary>Ready when the silo's PostgreSQL answers <c>SELECT 1</c> within the configured bound.</summary>
internal sealed class PostgresHealthCheck : IHealthCheck
{
    private readonly string _connectionString;
    private readonly TimeSpan _timeout;

    public PostgresHealthCheck(DatabaseSettings database, IOptions<ObservabilityOptions> options)
    {
        var seconds = options.Value.ReadyTimeoutSeconds;
        _timeout = TimeSpan.FromSeconds(seconds);
        _connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Timeout = seconds,
            CommandTimeout = seconds,
            ApplicationName = "mtactors-health",
        }.ConnectionString;
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(_timeout);
        try
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync(bound.Token);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            var one = await command.ExecuteScalarAsync(bound.Token);
            return one is 1 ? HealthCheckResult.Healthy("SELECT 1 answered") : HealthCheckResult.Unhealthy("SELECT 1 gave no 1");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"no answer within {_timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // The message names host and port at most, never the password.
            return HealthCheckResult.Unhealthy(ex.Message.ReplaceLineEndings(" "));
        }
    }
}

/// <summary>The JSON body of the health endpoints.</summary>
internal static class HealthResponse
{
    private static readonly JsonWriterOptions Options = new() { Indented = false };

    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteNumber("duration_ms", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                if (entry.Description is { } description)
                {
                    json.WriteString("description", description);
                }

                json.WriteNumber("duration_ms", Math.Round(entry.Duration.TotalMilliseconds, 1));
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }
}
