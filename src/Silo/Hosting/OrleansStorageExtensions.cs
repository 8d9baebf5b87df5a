using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MtActors.Grains;
using MtActors.Grains.AuthKeys;
using Npgsql;
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
        connectionString = TuneConnectionString(connectionString);
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

    /// <summary>
    /// The connection settings MtActors gives its Orleans connections (clustering, grain storage, session listings),
    /// each only where the connection string does not set it: <c>No Reset On Close=true</c> and auto-prepare
    /// (<c>Max Auto Prepare=32</c>, <c>Auto Prepare Min Usages=2</c>).
    /// </summary>
    /// <remarks>
    /// The providers run a handful of fixed statements on pooled connections and leave no session state behind (no
    /// SET, temporary tables, LISTEN or advisory locks; an open transaction is rolled back on close either way). By
    /// default Npgsql nevertheless prefixes the next use of a pooled connection with DISCARD ALL, which also throws
    /// away every prepared plan, so each storage operation was parsed and planned from scratch after a reset.
    /// Measured with bench/MtActors.ScaleBench (cycles): session create + destroy through the grains +40 % per
    /// second, raw Npgsql statements +60 % (docs/scale-out.md). A migration that changes the type of a column these
    /// statements return needs the silos restarted (PostgreSQL refuses a cached plan whose result type changed).
    /// </remarks>
    public static string TuneConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        bool Has(params string[] keys) => keys.Any(given.ContainsKey);
        var tuned = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Has("No Reset On Close", "NoResetOnClose")) tuned.NoResetOnClose = true;
        if (!Has("Max Auto Prepare", "MaxAutoPrepare")) tuned.MaxAutoPrepare = 32;
        if (!Has("Auto Prepare Min Usages", "AutoPrepareMinUsages")) tuned.AutoPrepareMinUsages = 2;
        return tuned.ConnectionString;
    }
}
