using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MtActors.Grains.Observability;
using MtActors.Silo.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orleans.Dashboard;

namespace MtActors.Silo.Observability;

/// <summary>
/// Metrics (OpenTelemetry, Prometheus scrape endpoint), health checks (<c>/health/live</c>, <c>/health/ready</c>), the
/// optional Orleans dashboard and the optional Kubernetes hosting. <see cref="AddMtActorsObservability"/> before Build,
/// <see cref="MapMtActorsObservability"/> after.
/// </summary>
public static class ObservabilityExtensions
{
    /// <summary>Liveness: the process serves HTTP.</summary>
    public const string LivePath = "/health/live";

    /// <summary>Readiness: the silo is Active in the cluster and PostgreSQL answers.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>Tag of the readiness checks.</summary>
    public const string ReadyTag = "ready";

    /// <summary>The meter of Orleans itself.</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>Registers metrics, health checks, and (when configured) the dashboard and Kubernetes hosting.</summary>
    /// <exception cref="SiloConfigurationException">The <c>MtActors:Observability</c> settings are invalid.</exception>
    public static WebApplicationBuilder AddMtActorsObservability(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ObservabilityOptions.SectionName);
        var options = section.Get<ObservabilityOptions>() ?? new();
        var problems = options.Check();
        if (problems.Count > 0)
        {
            throw new SiloConfigurationException(problems);
        }

        builder.Services.AddOptions<ObservabilityOptions>().Bind(section);
        var kubernetes = builder.Configuration.GetSection(KubernetesOptions.SectionName).Get<KubernetesOptions>() ?? new();
        builder.Services.AddOptions<KubernetesOptions>().Bind(builder.Configuration.GetSection(KubernetesOptions.SectionName));

        var checkTimeout = TimeSpan.FromSeconds(options.ReadyTimeoutSeconds + 1);
        builder.Services.AddHealthChecks()
            .AddCheck<OrleansSiloHealthCheck>("orleans", HealthStatus.Unhealthy, [ReadyTag], checkTimeout)
            .AddCheck<PostgresHealthCheck>("postgresql", HealthStatus.Unhealthy, [ReadyTag], checkTimeout);

        if (options.MetricsEnabled)
        {
            builder.Services.AddOpenTelemetry()
                .ConfigureResource(r => r.AddService("mtactors-silo"))
                .WithMetrics(metrics =>
                {
                    metrics.AddMeter(MtActorsMetrics.MeterName);
                    metrics.AddMeter("Microsoft.AspNetCore.Hosting");
                    if (options.OrleansMetrics)
                    {
                        metrics.AddMeter(OrleansMeterName);
                    }

                    // No response cache: a scrape right after an operation shows it.
                    metrics.AddPrometheusExporter(p => p.ScrapeResponseCacheDurationMilliseconds = 0);
                });
        }

        if (options.DashboardEnabled || kubernetes.Enabled)
        {
            builder.UseOrleans(silo =>
            {
                if (options.DashboardEnabled)
                {
                    silo.AddDashboard();
                }

                if (kubernetes.Enabled)
                {
                    silo.UseKubernetesHosting();
                }
            });
        }

        return builder;
    }

    /// <summary>Maps <c>/health/live</c>, <c>/health/ready</c>, the scrape endpoint and the dashboard.</summary>
    public static WebApplication MapMtActorsObservability(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ObservabilityOptions>>().Value;
        app.MapHealthChecks(LivePath, new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = HealthResponse.WriteAsync,
        }).WithTags("Health");
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(ReadyTag),
            ResponseWriter = HealthResponse.WriteAsync,
        }).WithTags("Health");

        if (options.MetricsEnabled)
        {
            app.MapPrometheusScrapingEndpoint(options.MetricsPath);
        }

        if (options.DashboardEnabled)
        {
            app.MapOrleansDashboard(options.DashboardPath);
        }

        return app;
    }
}
