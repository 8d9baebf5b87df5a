using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MtActors.Grains;
using MtActors.Grains.AuthKeys;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace MtActors.Silo.Hosting;

/// <summary>
/// The one place that wires Orleans to PostgreSQL for MtActors, used by the silo host and by the tests:
/// ADO.NET clustering and the grain storage providers ("sessions", "authkeys") on the schema of
/// deploy/sql (apply it first with <see cref="Postgres.SchemaMigrator"/>), plus the grains' services.
/// </summary>
public static class OrleansStorageExtensions
{
    /// <summary>ADO.NET invariant name of Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Storage provider names, one per grain type.</summary>
    public static IReadOnlyList<string> StorageNames { get; } = [GrainServices.SessionStorage, GrainServices.AuthKeyStorage];

    /// <summary>
    /// ADO.NET clustering + grain storage on PostgreSQL. State is written with the Orleans binary
    /// serializer (version-tolerant, [Id]-based; see docs/persistence.md), rows are deleted on clear.
    /// </summary>
    public static ISiloBuilder UseMtActorsPostgres(this ISiloBuilder silo, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        silo.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
        foreach (string name in StorageNames)
        {
            silo.AddAdoNetGrainStorage(name, options =>
            {
                options.Invariant = Invariant;
                options.ConnectionString = connectionString;
                options.DeleteStateOnClear = true;
            });
            silo.Services.AddOptions<AdoNetGrainStorageOptions>(name)
                .Configure<Serializer>((options, serializer) => options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
        }
        // destroy_auth_key and the session listings find a key's sessions by their rows.
        silo.Services.AddSingleton<ISessionDirectory>(sp => new Postgres.PostgresSessionDirectory(
            connectionString, sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId));
        silo.Services.AddMtActorsGrainServices();
        return silo;
    }
}
