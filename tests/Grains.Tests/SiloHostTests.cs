using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Hosting;
using MtActors.Silo.Postgres;
using Orleans.Configuration;

namespace MtActors.Grains.Tests;

/// <summary>
/// Real silo hosts on loopback TCP, configured exactly like the silo: ADO.NET clustering (this
/// project's membership queries) and grain storage on PostgreSQL, plus an Orleans client that finds
/// the silos through the membership table.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SiloHostTests(PostgresFixture pg)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static async Task<IHost> StartSiloAsync(string db, string clusterId, string name)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo =>
        {
            silo.UseMtActorsPostgres(db);
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "hosts"));
            silo.Configure<SiloOptions>(o => o.SiloName = name);
            silo.ConfigureEndpoints(IPAddress.Loopback, LocalPostgres.FreeLoopbackPort(), LocalPostgres.FreeLoopbackPort());
        });
        IHost host = builder.Build();
        await host.StartAsync().WaitAsync(Bound);
        return host;
    }

    private static async Task<IHost> StartClientAsync(string db, string clusterId)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (OrleansStorageExtensions.Invariant, db));
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "hosts"));
        });
        IHost host = builder.Build();
        await host.StartAsync().WaitAsync(Bound);
        return host;
    }

    [Fact]
    public async Task Two_silo_hosts_join_through_the_membership_table_and_one_survives_the_other()
    {
        string db = await pg.CreateMigratedDatabaseAsync("hosts");
        string clusterId = "hosts-" + Guid.NewGuid().ToString("N")[..8];
        IHost silo1 = await StartSiloAsync(db, clusterId, "silo1");
        IHost? silo2 = null;
        IHost? client = null;
        try
        {
            silo2 = await StartSiloAsync(db, clusterId, "silo2");
            Assert.Equal(2, await Sql.CountAsync(db, "SELECT count(*) FROM membership WHERE deploymentid = @d AND status = 3", ("d", clusterId)));
            Assert.True(await Sql.CountAsync(db, "SELECT version FROM membership_version WHERE deploymentid = @d", ("d", clusterId)) >= 2);

            client = await StartClientAsync(db, clusterId);
            IGrainFactory grains = client.Services.GetRequiredService<IClusterClient>();
            var (authKeyId, salt) = await TestData.RegisterKeyAsync(grains);
            long now = TestData.ClientMsgId(DateTimeOffset.UtcNow);
            var created = new Dictionary<long, long>();
            for (int i = 0; i < 8; i++)
            {
                long sessionId = TestData.NewSessionId();
                ReceiveResult r = await grains.GetSessionGrain(authKeyId, sessionId).Receive(TestData.Frame(salt, now + 4 * i)).WaitAsync(Bound);
                created[sessionId] = r.Notices[0].UniqueId;
            }

            // Silo 2 leaves cleanly: its activations write their final state, silo 1 serves everything.
            await silo2.StopAsync().WaitAsync(Bound);
            silo2.Dispose();
            silo2 = null;
            foreach (var (sessionId, uniqueId) in created)
            {
                Assert.Equal(uniqueId, (await grains.GetSessionGrain(authKeyId, sessionId).GetInfo().WaitAsync(Bound))?.UniqueId);
            }
            Assert.Equal(1, await Sql.CountAsync(db, "SELECT count(*) FROM membership WHERE deploymentid = @d AND status = 3", ("d", clusterId)));
        }
        finally
        {
            foreach (IHost? host in (IHost?[])[client, silo2, silo1])
            {
                if (host is null) continue;
                await host.StopAsync().WaitAsync(Bound);
                host.Dispose();
            }
        }
    }
}
