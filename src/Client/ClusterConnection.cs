using MtActors.Silo.Hosting;
using MtActors.Silo.Options;
using Npgsql;

namespace MtActors.Client;

/// <summary>Where the cluster is: a connection string, cluster id and service id, and where they came from.</summary>
public sealed record ClusterConnection(string ConnectionString, string ClusterId, string ServiceId, string Source)
{
    /// <summary>Environment variable with the cluster's Npgsql connection string.</summary>
    public const string ConnectionVariable = "MTACTORS_CONNECTION";

    /// <summary>Default cluster and service id (the silo's defaults).</summary>
    public const string DefaultId = "mtactors";

    /// <summary>
    /// The connection from, in order: <paramref name="connection"/> (--connection), MTACTORS_CONNECTION, then the
    /// cluster.json of the local data directory (<paramref name="dataDirectory"/> or the default). Ids given
    /// explicitly win over those of cluster.json.
    /// </summary>
    /// <exception cref="CliException">Nothing says where the cluster is, or cluster.json is unreadable.</exception>
    public static ClusterConnection Resolve(
        string? connection, string? clusterId, string? serviceId, string? dataDirectory,
        Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(connection))
        {
            return new(Check(connection, "--connection"), clusterId ?? DefaultId, serviceId ?? DefaultId, "--connection");
        }

        var fromEnv = environment(ConnectionVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return new(Check(fromEnv, ConnectionVariable), clusterId ?? DefaultId, serviceId ?? DefaultId,
                ConnectionVariable);
        }

        string dir;
        try
        {
            dir = DataDirectories.Resolve(dataDirectory ?? environment(DataDirectories.EnvironmentVariable));
        }
        catch (InvalidOperationException ex)
        {
            throw new CliException(ExitCodes.NoCluster, ex.Message);
        }

        ClusterFile? file;
        try
        {
            file = ClusterFile.TryRead(dir);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.NoCluster, $"cannot read the local cluster file: {ex.Message}");
        }

        return file is null
            ? throw new CliException(ExitCodes.NoCluster,
                $"no cluster given and no local silo found ({ClusterFile.PathIn(dir)} does not exist): start one with " +
                $"`dotnet run --project src/Silo`, or pass --connection \"Host=...\" or set {ConnectionVariable}")
            : new(Check(file.ConnectionString, ClusterFile.PathIn(dir)), clusterId ?? file.ClusterId,
                serviceId ?? file.ServiceId, ClusterFile.PathIn(dir));
    }

    private static string Check(string connectionString, string source)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return connectionString;
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, $"the connection string from {source} is not valid: {ex.Message}");
        }
    }

    /// <summary>The connection string without secrets, for messages.</summary>
    public string Describe() => ClusterFile.Redact(ConnectionString);
}
