using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Hosting;
using MtActors.Silo.Postgres;

namespace MtActors.Grains.Tests.Http;

/// <summary>
/// The real silo (<see cref="SiloHost.Build"/>) on free loopback ports against a PostgreSQL database, its HTTP
/// endpoint on port 0 (real Kestrel), an HttpClient for it, and every log line it writes.
/// </summary>
public sealed class HttpSilo : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    private readonly string _dataDirectory;

    private HttpSilo(WebApplication app, string dataDirectory, LogCapture logs, string connectionString)
    {
        App = app;
        _dataDirectory = dataDirectory;
        Logs = logs;
        ConnectionString = connectionString;
        BaseAddress = new Uri(app.Urls.Single());
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public LogCapture Logs { get; }

    public string ConnectionString { get; }

    public string ServiceId { get; private init; } = "";

    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Starts a silo on <paramref name="connectionString"/> (schema already applied) with extra settings.</summary>
    public static async Task<HttpSilo> StartAsync(string connectionString, IEnumerable<KeyValuePair<string, string>> settings)
    {
        var id = "http-" + Guid.NewGuid().ToString("N")[..10];
        var dataDirectory = Path.Combine(Path.GetTempPath(), "mtactors-httptest-" + Guid.NewGuid().ToString("N")[..12]);
        string[] args =
        [
            $"--ConnectionStrings:MtActors={connectionString}",
            $"--MtActors:ClusterId={id}",
            $"--MtActors:ServiceId={id}",
            $"--MtActors:DataDirectory={dataDirectory}",
            $"--MtActors:SiloPort={LocalPostgres.FreeLoopbackPort()}",
            $"--MtActors:GatewayPort={LocalPostgres.FreeLoopbackPort()}",
            "--MtActors:MtProto:Port=0",
            "--MtActors:Http:Port=0",
            "--MtActors:MigrateOnStart=false",
            "--MtActors:ShutdownTimeoutSeconds=10",
            "--Logging:LogLevel:Default=Warning",
            // Everything ASP.NET Core and MtActors say, to prove no token reaches a log line.
            "--Logging:LogLevel:Microsoft.AspNetCore=Trace",
            "--Logging:LogLevel:MtActors=Trace",
            .. settings.Select(s => $"--{s.Key}={s.Value}"),
        ];
        var logs = new LogCapture();
        var app = SiloHost.Build(args, b => b.Logging.AddProvider(logs));
        try
        {
            await app.StartAsync().WaitAsync(Bound);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new HttpSilo(app, dataDirectory, logs, connectionString) { ServiceId = id };
    }

    /// <summary>A request with <c>Authorization: Bearer</c> when <paramref name="token"/> is given.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return Http.SendAsync(request).WaitAsync(Bound);
    }

    /// <summary>The value of one Prometheus sample (0 when the series is absent), read from <c>/metrics</c>.</summary>
    public async Task<double> MetricAsync(string name, params (string Label, string Value)[] labels)
    {
        var text = await Http.GetStringAsync("/metrics").WaitAsync(Bound);
        return PrometheusText.Value(text, name, labels);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await App.StopAsync(stop.Token);
        }
        finally
        {
            await App.DisposeAsync();
            if (Directory.Exists(_dataDirectory))
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
        }
    }
}

/// <summary>Keeps every formatted log message (with its exception text).</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The structured values too: a sink that writes them (JSON logs) would show them.
            var values = state is IEnumerable<KeyValuePair<string, object?>> kv ? string.Join(" ", kv.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {values} {exception}");
        }
    }
}

/// <summary>Reads samples from the Prometheus text format.</summary>
public static class PrometheusText
{
    public static double Value(string text, string name, params (string Label, string Value)[] labels)
    {
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(name, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[name.Length..];
            if (rest.Length == 0 || (rest[0] != '{' && rest[0] != ' '))
            {
                continue; // a longer name
            }

            if (labels.All(l => rest.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                // "{labels} value [timestamp]" or " value [timestamp]"
                var afterLabels = rest[0] == '{' ? rest[(rest.LastIndexOf('}') + 1)..] : rest;
                var value = afterLabels.Trim().Split(' ')[0];
                sum += double.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }
}
