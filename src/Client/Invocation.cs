using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using MtActors.Admin;
using MtActors.Client.Output;
using MtActors.Client.Storage;
using MtActors.Silo.Options;

namespace MtActors.Client;

/// <summary>The global options every command understands (recursive options of the root command).</summary>
internal sealed record GlobalOptions(
    Option<string?> Connection, Option<string?> ClusterId, Option<string?> ServiceId, Option<string?> DataDir,
    Option<bool> Json, Option<double> Timeout, Option<bool> Verbose, Option<bool> NoProgress)
{
    public IEnumerable<Option> All => [Connection, ClusterId, ServiceId, DataDir, Json, Timeout, Verbose, NoProgress];
}

/// <summary>What the process gives the CLI: its streams, environment, and whether standard error is a terminal.</summary>
internal sealed record CliEnvironment(
    TextWriter Output, TextWriter Error, Func<string, string?> Variables, bool ErrorIsTerminal);

/// <summary>
/// One run of one command: the parsed options, and the cluster connection, database and Orleans client, each made
/// on first use and disposed at the end.
/// </summary>
internal sealed class Invocation(ParseResult parse, GlobalOptions options, CliEnvironment environment, CancellationToken ct)
    : IAsyncDisposable
{
    private ClusterConnection? _connection;
    private ClusterDatabase? _database;
    private ConnectedClient? _client;

    public ParseResult Parse => parse;

    public TextWriter Out => environment.Output;

    public TextWriter Err => environment.Error;

    public CancellationToken Cancellation => ct;

    public bool Json => parse.GetValue(options.Json);

    public bool Verbose => parse.GetValue(options.Verbose);

    /// <summary>--timeout: connecting, and each call or query.</summary>
    public TimeSpan Timeout => TimeSpan.FromSeconds(parse.GetValue(options.Timeout));

    public Progress Progress { get; } =
        new(environment.Error, environment.ErrorIsTerminal && !parse.GetValue(options.NoProgress));

    /// <summary>Where the cluster is (resolved on first use: --connection, MTACTORS_CONNECTION, cluster.json).</summary>
    public ClusterConnection Connection => _connection ??= ClusterConnection.Resolve(
        parse.GetValue(options.Connection), parse.GetValue(options.ClusterId), parse.GetValue(options.ServiceId),
        parse.GetValue(options.DataDir), environment.Variables);

    /// <summary>The local data directory (--data-dir, MTACTORS_DATA_DIR or the default).</summary>
    public string DataDirectory
    {
        get
        {
            try
            {
                return DataDirectories.Resolve(parse.GetValue(options.DataDir) ?? environment.Variables(DataDirectories.EnvironmentVariable));
            }
            catch (InvalidOperationException ex)
            {
                throw new CliException(ExitCodes.Usage, ex.Message);
            }
        }
    }

    /// <summary>The cluster's database, read directly (no silo needed).</summary>
    public ClusterDatabase Database => _database ??= new ClusterDatabase(Connection, Timeout);

    /// <summary>A connected Orleans cluster client; grain calls time out after <paramref name="responseTimeout"/>.</summary>
    public async Task<IClusterClient> ClientAsync(TimeSpan? responseTimeout = null)
    {
        _client ??= await ClusterClientFactory.ConnectAsync(Connection, Timeout, Verbose, Err, ct, responseTimeout);
        return _client.Client;
    }

    /// <summary>Writes one JSON object as one line.</summary>
    public Task WriteJsonAsync(JsonObject value) => Out.WriteLineAsync(value.ToJsonString(JsonText.Options));

    /// <summary>Writes one of the shared JSON objects (<see cref="AdminJsonContext"/>, as the HTTP API does) as one line.</summary>
    public Task WriteJsonAsync<T>(T value, JsonTypeInfo<T> type) => Out.WriteLineAsync(JsonSerializer.Serialize(value, type));

    public async ValueTask DisposeAsync()
    {
        Progress.Clear();
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

/// <summary>How the CLI writes values.</summary>
internal static class JsonText
{
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    /// <summary>Times as ISO 8601 round-trip text (UTC offset kept).</summary>
    public static string Time(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>An id as "decimal (0xhex)" for text output.</summary>
    public static string Id(long id) => string.Create(CultureInfo.InvariantCulture, $"{id} ({Ids.Hex(id)})");
}
