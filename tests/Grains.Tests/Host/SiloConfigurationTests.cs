using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Hosting;
using MtActors.Silo.Options;

namespace MtActors.Grains.Tests.SiloHosting;

/// <summary>The silo's options and its `migrate` command.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SiloConfigurationTests(PostgresFixture pg)
{
    [Fact]
    public void Invalid_settings_are_refused_at_start_with_every_problem_named()
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => SiloHost.Build(
        [
            "--MtActors:ClusterId=",
            "--MtActors:Instance=0",
            "--MtActors:AdvertisedIP=not-an-ip",
            "--MtActors:Http:Address=nowhere",
            "--ConnectionStrings:MtActors=Host=127.0.0.1",
        ]));
        Assert.Contains(ex.Problems, p => p.StartsWith("MtActors:ClusterId", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.StartsWith("MtActors:Instance", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.StartsWith("MtActors:AdvertisedIP", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.StartsWith("MtActors:Http:Address", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_port_is_offset_by_the_instance_number()
    {
        var o = new MtActorsOptions { Instance = 3, SiloPort = 11111, GatewayPort = 30000, Http = { Port = 5080 } };
        Assert.Empty(MtActorsOptionsValidator.Check(o));
        Assert.Equal((11113, 30002, 5082), (o.EffectiveSiloPort, o.EffectiveGatewayPort, o.EffectiveHttpPort));

        var tooHigh = new MtActorsOptions { Instance = 3, GatewayPort = 65535 };
        Assert.Contains(MtActorsOptionsValidator.Check(tooHigh), p => p.StartsWith("MtActors:GatewayPort", StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_instance_without_a_connection_string_needs_the_first_ones_cluster_file()
    {
        var dir = Directory.CreateTempSubdirectory("mtactors-inst2-");
        try
        {
            var ex = Assert.Throws<SiloConfigurationException>(() => SiloHost.Build(
                [$"--MtActors:DataDirectory={dir.FullName}", "--MtActors:Instance=2"]));
            Assert.Contains("start instance 1 first", ex.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Migrate_command_applies_the_schema_and_is_safe_to_repeat()
    {
        var db = await pg.CreateDatabaseAsync("migrate_cmd");
        Assert.Equal(SiloCommands.Ok, await SiloCommands.RunAsync(["migrate", "--connection", db]));
        Assert.Equal(1, await Sql.CountAsync(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'membership'"));
        Assert.Equal(SiloCommands.Ok, await SiloCommands.RunAsync(["migrate", "--connection", db]));
    }

    [Fact]
    public async Task Migrate_command_without_a_connection_or_with_a_bad_one_fails_with_a_message()
    {
        Assert.Equal(SiloCommands.BadUsage, await SiloCommands.RunAsync(["migrate", "--bogus"]));
        Assert.Equal(SiloCommands.Failed, await SiloCommands.RunAsync(
            ["migrate", "--connection", $"Host=127.0.0.1;Port={Silo.Postgres.LocalPostgres.FreeLoopbackPort()};Username=x;Password=y;Timeout=2"]));
    }
}
