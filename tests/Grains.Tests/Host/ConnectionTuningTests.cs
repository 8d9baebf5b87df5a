using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Hosting;
using Npgsql;

namespace MtActors.Grains.Tests.SiloHosting;

/// <summary>The connection settings the silo gives its Orleans connections (OrleansStorageExtensions.TuneConnectionString).</summary>
[Collection(PostgresCollection.Name)]
public sealed class ConnectionTuningTests(PostgresFixture pg)
{
    [Fact]
    public void Adds_no_reset_and_auto_prepare_and_keeps_the_rest()
    {
        var tuned = new NpgsqlConnectionStringBuilder(
            OrleansStorageExtensions.TuneConnectionString("Host=127.0.0.1;Port=5433;Username=u;Password=p w;Database=d;Timeout=30"));
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal(32, tuned.MaxAutoPrepare);
        Assert.Equal(2, tuned.AutoPrepareMinUsages);
        Assert.Equal(("127.0.0.1", 5433, "u", "p w", "d", 30), (tuned.Host, tuned.Port, tuned.Username, tuned.Password, tuned.Database, tuned.Timeout));
    }

    [Theory]
    [InlineData("Host=h;No Reset On Close=false;Max Auto Prepare=0;Auto Prepare Min Usages=7", false, 0, 7)]
    [InlineData("Host=h;NoResetOnClose=false;MaxAutoPrepare=5", false, 5, 2)]
    [InlineData("Host=h;no reset on close=False", false, 32, 2)]
    public void Leaves_settings_the_operator_gave_alone(string given, bool noReset, int maxPrepare, int minUsages)
    {
        var tuned = new NpgsqlConnectionStringBuilder(OrleansStorageExtensions.TuneConnectionString(given));
        Assert.Equal((noReset, maxPrepare, minUsages), (tuned.NoResetOnClose, tuned.MaxAutoPrepare, tuned.AutoPrepareMinUsages));
    }

    [Fact]
    public void A_malformed_connection_string_is_refused_with_a_clear_error()
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => OrleansStorageExtensions.TuneConnectionString("Host=h;Max Auto Prepare=many"));
        Assert.Contains("Max Auto Prepare", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_repeated_statement_is_prepared_and_stays_prepared_across_pooled_uses()
    {
        string db = await pg.CreateMigratedDatabaseAsync("tuning");
        await using var source = NpgsqlDataSource.Create(OrleansStorageExtensions.TuneConnectionString(db));
        const string read = "SELECT payloadbinary, version FROM grain_state WHERE serviceid = @s AND graintypestring = 'session' AND grainidn0 = 1 AND grainidn1 = 2";
        int backend = 0;
        for (int i = 0; i < 4; i++)
        {
            // One physical connection (nothing else uses this pool): each open/close is a pooled reuse.
            await using var connection = await source.OpenConnectionAsync();
            backend = backend == 0 ? connection.ProcessID : backend;
            Assert.Equal(backend, connection.ProcessID);
            await using var command = new NpgsqlCommand(read, connection);
            command.Parameters.AddWithValue("s", "svc");
            await using var reader = await command.ExecuteReaderAsync();
            Assert.False(await reader.ReadAsync());
        }
        await using var check = await source.OpenConnectionAsync();
        await using var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM grain_state%'", check);
        Assert.Equal(1L, (long)(await prepared.ExecuteScalarAsync())!);
    }
}
