using Microsoft.Extensions.DependencyInjection;
using MtActors.Silo.Gateway;

namespace MtActors.Testing;

/// <summary>Where a test server keeps its grains' state.</summary>
public enum MtActorsStorage
{
    /// <summary>In the silos' memory: nothing to install, gone when the server stops. The default.</summary>
    InMemory = 0,

    /// <summary>
    /// PostgreSQL through the same Orleans ADO.NET providers and schema as production: a throwaway server of its own
    /// (needs the PostgreSQL server binaries, see README) or the database of
    /// <see cref="MtActorsTestServerOptions.PostgresConnectionString"/>.
    /// </summary>
    PostgreSql = 1,
}

/// <summary>How <see cref="MtActorsTestServer.StartAsync(MtActorsTestServerOptions?, CancellationToken)"/> starts MtActors.</summary>
public sealed class MtActorsTestServerOptions
{
    /// <summary>Where grain state lives (default <see cref="MtActorsStorage.InMemory"/>).</summary>
    public MtActorsStorage Storage { get; set; } = MtActorsStorage.InMemory;

    /// <summary>
    /// With <see cref="MtActorsStorage.PostgreSql"/>: an existing database to use (the schema is applied at start; rows
    /// are keyed by <see cref="ServiceId"/>, so several servers can share one database). Null: a throwaway PostgreSQL
    /// server on a free loopback port, deleted when the test server stops.
    /// </summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Number of silos (default 1); each has its own MTProto endpoint, all share the state.</summary>
    public short Silos { get; set; } = 1;

    /// <summary>The DC id clients must name in the key exchange (default 2, what GramJS and mtcute use in tests).</summary>
    public int DcId { get; set; } = 2;

    /// <summary>
    /// The server's RSA-2048 private key (PKCS#1 or PKCS#8 PEM), for clients that pin a fixed key. Null: a key generated
    /// once per test process (its fingerprint's top byte is at least 0x10, so mtcute 0.30 can use it too) and shared by
    /// every server of the process.
    /// </summary>
    public string? RsaPrivateKeyPem { get; set; }

    /// <summary>
    /// The clock the grains read (salts, msg_id windows); null: the system clock. A fake one (e.g.
    /// Microsoft.Extensions.Time.Testing's FakeTimeProvider) lets a test move time forward.
    /// </summary>
    public TimeProvider? GrainClock { get; set; }

    /// <summary>Orleans service id (default: unique per server). State rows are keyed by it.</summary>
    public string? ServiceId { get; set; }

    /// <summary>More gateway settings (limits, timeouts, <see cref="MtProtoGatewayOptions.EnforceDcId"/>, ...); address and port stay 127.0.0.1 and a free port unless changed here.</summary>
    public Action<MtProtoGatewayOptions>? ConfigureGateway { get; set; }

    /// <summary>
    /// The silos' services: register your API handlers here, e.g.
    /// <c>services.AddMtProtoApiHandler(0x12345678, new MyHandler())</c> (namespace MtActors.Grains.Api).
    /// </summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>Anything else on each silo builder (runs last).</summary>
    public Action<ISiloBuilder>? ConfigureSilo { get; set; }

    /// <summary>Bound on starting (PostgreSQL, schema, silos, endpoints); default 2 minutes.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Bound on a graceful stop; past it the silos are disposed anyway. Default 1 minute.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromMinutes(1);

    internal void Validate()
    {
        if (Silos < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Silos), Silos, "At least one silo.");
        }

        if (DcId == 0 || Math.Abs((long)DcId) > short.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(DcId), DcId, "A non-zero DC number of at most 32767.");
        }

        if (Storage == MtActorsStorage.InMemory && PostgresConnectionString is not null)
        {
            throw new ArgumentException(
                "PostgresConnectionString is set but Storage is InMemory: set Storage = MtActorsStorage.PostgreSql.",
                nameof(PostgresConnectionString));
        }

        if (StartTimeout <= TimeSpan.Zero || StopTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(StartTimeout), "StartTimeout and StopTimeout must be positive.");
        }

        if (ServiceId is { } id && string.IsNullOrWhiteSpace(id))
        {
            throw new ArgumentException("ServiceId must not be blank.", nameof(ServiceId));
        }
    }
}
