using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;

namespace MtActors.Silo.Hosting;

/// <summary>
/// <c>cluster.json</c> in the data directory: how to reach the local silo's cluster (connection string, cluster id,
/// service id). Written by the silo at start with owner-only permissions (it holds the database password); read by
/// the mtactors CLI when it gets no connection. Shared as a linked source file by the silo and the CLI.
/// </summary>
internal sealed record ClusterFile
{
    /// <summary>Npgsql connection string of the cluster's database.</summary>
    [JsonPropertyName("connectionString")]
    public required string ConnectionString { get; init; }

    /// <summary>Orleans cluster id.</summary>
    [JsonPropertyName("clusterId")]
    public required string ClusterId { get; init; }

    /// <summary>Orleans service id.</summary>
    [JsonPropertyName("serviceId")]
    public required string ServiceId { get; init; }

    /// <summary>True when the database is the silo's embedded PostgreSQL.</summary>
    [JsonPropertyName("embeddedPostgres")]
    public bool EmbeddedPostgres { get; init; }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Path of the file in <paramref name="dataDirectory"/>.</summary>
    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, "cluster.json");

    /// <summary>Writes the file atomically, readable by its owner only.</summary>
    public void Write(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = PathIn(dataDirectory);
        var temp = path + ".tmp";
        File.Delete(temp);
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, fileOptions))
        {
            JsonSerializer.Serialize(stream, this, Json);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads the file; null when it does not exist; <see cref="InvalidDataException"/> when it is unreadable.</summary>
    public static ClusterFile? TryRead(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var file = JsonSerializer.Deserialize<ClusterFile>(File.ReadAllText(path), Json);
            return file is { ConnectionString.Length: > 0 }
                ? file
                : throw new InvalidDataException($"{path} holds no connection string.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>A connection string with its secrets removed, for logs and error messages.</summary>
    public static string Redact(string connectionString)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            return $"Host={b.Host};Port={b.Port};Database={b.Database};Username={b.Username}";
        }
        catch (ArgumentException)
        {
            return "(unparsable connection string)";
        }
    }
}
