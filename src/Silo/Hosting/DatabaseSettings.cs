using MtActors.Silo.Postgres;

namespace MtActors.Silo.Hosting;

/// <summary>The silo's database: a configured connection string, or the embedded PostgreSQL.</summary>
public sealed class DatabaseSettings
{
    /// <summary>Npgsql connection string used by clustering and persistence.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The embedded server this silo starts and stops; null with a configured connection string.</summary>
    public LocalPostgres? Embedded { get; init; }

    /// <summary>Where the connection string came from, for logs.</summary>
    public required string Source { get; init; }
}
