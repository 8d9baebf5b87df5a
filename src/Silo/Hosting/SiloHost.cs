using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MtActors.Silo.Gateway;
using MtActors.Silo.Http;
using MtActors.Silo.Observability;
using MtActors.Silo.Options;
using MtActors.Silo.Postgres;
using Orleans.Configuration;

namespace MtActors.Silo.Hosting;

/// <summary>Bad configuration found before the silo starts; the message names every offending setting.</summary>
public sealed class SiloConfigurationException(IReadOnlyList<string> problems)
    : Exception(string.Join(" ", problems))
{
    /// <summary>One entry per problem.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Builds the MtActors silo: a WebApplication (HTTP endpoints on loopback by default) hosting an Orleans silo with
/// ADO.NET clustering and persistence on PostgreSQL. Start order: embedded PostgreSQL, schema, cluster.json, Orleans;
/// stop order is the reverse, so PostgreSQL outlives the silo's last state writes.
/// </summary>
public static partial class SiloHost
{
    /// <summary>
    /// Creates the host from command-line arguments (configuration keys such as <c>--MtActors:Instance=2</c>), the
    /// environment and appsettings.json beside the binary. <paramref name="configure"/> may add to the builder (tests).
    /// </summary>
    /// <exception cref="SiloConfigurationException">The configuration is invalid.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        var options = builder.Configuration.GetSection(MtActorsOptions.SectionName).Get<MtActorsOptions>() ?? new();
        var problems = MtActorsOptionsValidator.Check(options);
        if (problems.Count > 0)
        {
            throw new SiloConfigurationException(problems);
        }

        builder.Services.AddOptions<MtActorsOptions>()
            .Bind(builder.Configuration.GetSection(MtActorsOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MtActorsOptions>, MtActorsOptionsValidator>();
        builder.Services.Configure<HostOptions>(h =>
            h.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds));

        var database = ResolveDatabase(builder.Configuration, options);
        builder.Services.AddSingleton(database);

        // Order matters: hosted services start in registration order and stop in reverse order.
        builder.Services.AddHostedService<EmbeddedPostgresService>();
        builder.Services.AddHostedService<SchemaMigrationService>();
        builder.Services.AddHostedService<ClusterFileService>();
        builder.Services.AddHostedService<StartupBanner>();

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(c =>
            {
                c.ClusterId = options.ClusterId;
                c.ServiceId = options.ServiceId;
            });
            silo.ConfigureEndpoints(options.AdvertisedAddress, options.EffectiveSiloPort, options.EffectiveGatewayPort,
                options.ListenOnAnyHostAddress);
            silo.UseMtActorsPostgres(database.ConnectionString);
            silo.AddMtProtoGateway(builder.Configuration, options);
            // Failure detection timing (Orleans ClusterMembershipOptions names, e.g. MtActors:Membership:ProbeTimeout).
            silo.Services.Configure<ClusterMembershipOptions>(
                builder.Configuration.GetSection(MtActorsOptions.MembershipSectionName));
            if (options.GrainDirectory == GrainDirectoryKind.Strong)
            {
                // One session, one activation among live silos (docs/scale-out.md); ETag fencing covers the rest,
                // so the directory's safety lease after a crash (30 s of unavailability) is off unless configured.
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10.4; chosen on purpose, see docs/scale-out.md
                silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
                silo.Services.Configure<GrainDirectoryOptions>(o => o.RangeLeaseDuration = TimeSpan.Zero);
            }

            silo.Services.Configure<GrainDirectoryOptions>(
                builder.Configuration.GetSection(MtActorsOptions.DirectorySectionName));
        });

        builder.WebHost.ConfigureKestrel(k =>
            k.Listen(IPAddress.Parse(options.Http.Address), options.EffectiveHttpPort));

        // Operator surface (ops): metrics, health, dashboard, Kubernetes hosting; the HTTP API (src/Silo/Observability, src/Silo/Http).
        builder.AddMtActorsObservability();
        builder.AddMtActorsHttpApi();

        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapGet("/", (IOptions<MtActorsOptions> o) =>
            Results.Text($"MtActors silo {o.Value.Instance} of cluster {o.Value.ClusterId}\n"));
        app.MapMtActorsObservability();
        app.MapMtActorsHttpApi();
        return app;
    }

    private static DatabaseSettings ResolveDatabase(IConfiguration configuration, MtActorsOptions options)
    {
        var configured = configuration.GetConnectionString(MtActorsOptions.ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new DatabaseSettings { ConnectionString = configured, Source = "ConnectionStrings:MtActors" };
        }

        var dataDirectory = options.ResolvedDataDirectory;
        if (options.Instance != 1)
        {
            ClusterFile? file;
            try
            {
                file = ClusterFile.TryRead(dataDirectory);
            }
            catch (InvalidDataException ex)
            {
                throw new SiloConfigurationException([ex.Message]);
            }

            return file is null
                ? throw new SiloConfigurationException([
                    $"Instance {options.Instance} has no ConnectionStrings:MtActors and no {ClusterFile.PathIn(dataDirectory)}: " +
                    "start instance 1 first (it runs the embedded PostgreSQL) or give a connection string."])
                : new DatabaseSettings { ConnectionString = file.ConnectionString, Source = ClusterFile.PathIn(dataDirectory) };
        }

        LocalPostgres pg;
        try
        {
            pg = LocalPostgres.Create(new LocalPostgresOptions
            {
                RootDirectory = Path.Combine(dataDirectory, "postgres"),
                Port = options.EmbeddedPostgresPort,
                Database = "mtactors",
            });
        }
        catch (LocalPostgresException ex)
        {
            throw new SiloConfigurationException([ex.Message]);
        }

        return new DatabaseSettings
        {
            ConnectionString = pg.ConnectionString,
            Embedded = pg,
            Source = "embedded PostgreSQL in " + pg.RootDirectory,
        };
    }

    /// <summary>Logs the effective settings once at start, secrets redacted.</summary>
    private sealed partial class StartupBanner(
        DatabaseSettings database, IOptions<MtActorsOptions> options, ILogger<StartupBanner> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var o = options.Value;
            LogSettings(logger, o.ClusterId, o.ServiceId, o.Instance, $"{o.AdvertisedIP}:{o.EffectiveSiloPort}",
                o.EffectiveGatewayPort, $"{o.Http.Address}:{o.EffectiveHttpPort}", o.ResolvedDataDirectory,
                ClusterFile.Redact(database.ConnectionString), database.Source);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "MtActors cluster {ClusterId} service {ServiceId} instance {Instance}: silo {SiloEndpoint}, " +
                  "gateway port {GatewayPort}, HTTP {HttpEndpoint}, data {DataDirectory}, database {Database} ({DatabaseSource})")]
    private static partial void LogSettings(ILogger logger, string clusterId, string serviceId, int instance,
        string siloEndpoint, int gatewayPort, string httpEndpoint, string dataDirectory, string database,
        string databaseSource);
}
