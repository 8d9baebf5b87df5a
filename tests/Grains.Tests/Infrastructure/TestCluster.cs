using Microsoft.Extensions.DependencyInjection;
using MtActors.Silo.Hosting;
using Orleans.TestingHost;

namespace MtActors.Grains.Tests.Infrastructure;

/// <summary>
/// An in-process Orleans cluster whose grain storage is the real PostgreSQL, configured by the same
/// <see cref="OrleansStorageExtensions.UseMtActorsPostgres"/> the silo host uses, the grains' clock
/// replaced by the given one. (InProcessTestCluster keeps its own in-memory membership and transport;
/// the ADO.NET clustering queries are exercised by <c>SiloHostTests</c> with real silo hosts.)
/// </summary>
public static class MtCluster
{
    public static async Task<InProcessTestCluster> StartAsync(
        string connectionString, string serviceId, TimeProvider? clock = null, short silos = 1, string? clusterId = null,
        Action<ISiloBuilder>? configure = null)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.Options.ClusterId = clusterId ?? serviceId + "-" + Guid.NewGuid().ToString("N")[..8];
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseMtActorsPostgres(connectionString);
            if (clock is not null) silo.Services.AddKeyedSingleton(GrainServices.ClockKey, clock);
            configure?.Invoke(silo);
        });
        InProcessTestCluster cluster = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await cluster.DeployAsync(timeout.Token);
        return cluster;
    }
}
