using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Postgres;
using Npgsql;

namespace MtActors.Grains.Tests;

[Collection(PostgresCollection.Name)]
public sealed class SchemaTests(PostgresFixture pg)
{
    [Fact]
    public async Task Migrator_applies_every_script_once_and_a_second_run_is_a_no_op()
    {
        string db = await pg.CreateDatabaseAsync("schema");
        IReadOnlyList<string> first = await SchemaMigrator.ApplyAsync(db);
        Assert.Equal(["001_orleans_query.sql", "002_clustering.sql", "003_persistence.sql"], first);
        long queries = await Sql.CountAsync(db, "SELECT count(*) FROM orleansquery");

        IReadOnlyList<string> second = await SchemaMigrator.ApplyAsync(db);
        Assert.Empty(second);
        Assert.Equal(queries, await Sql.CountAsync(db, "SELECT count(*) FROM orleansquery"));
        Assert.Equal(3, await Sql.CountAsync(db, "SELECT count(*) FROM mtactors_schema_migrations"));
        // Every key the Orleans 10.4 providers require is there.
        foreach (string key in (string[])["InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey",
                     "UpdateIAmAlivetimeKey", "MembershipReadRowKey", "MembershipReadAllKey", "GatewaysQueryKey",
                     "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey",
                     "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey"])
        {
            Assert.Equal(1, await Sql.CountAsync(db, "SELECT count(*) FROM orleansquery WHERE querykey = @k", ("k", key)));
        }
    }

    [Fact]
    public async Task Scripts_are_safe_to_apply_twice_even_without_the_migrations_table()
    {
        string db = await pg.CreateDatabaseAsync("schema_raw");
        string dir = SchemaMigrator.DefaultScriptDirectory;
        for (int run = 0; run < 2; run++)
        {
            foreach (string file in Directory.GetFiles(dir, "*.sql").Order(StringComparer.Ordinal))
            {
                await Sql.ExecuteAsync(db, await File.ReadAllTextAsync(file));
            }
        }
        Assert.Equal(13, await Sql.CountAsync(db, "SELECT count(*) FROM orleansquery"));
    }

    [Fact]
    public async Task Two_silos_migrating_at_once_do_not_race()
    {
        string db = await pg.CreateDatabaseAsync("schema_race");
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => SchemaMigrator.ApplyAsync(db))));
        Assert.Equal(3, runs.Sum(r => r.Count)); // exactly one run applied the scripts, the others found them applied
        Assert.Single(runs, r => r.Count == 3);
    }

    [Fact]
    public async Task A_changed_script_is_applied_again_and_a_broken_one_rolls_everything_back()
    {
        string db = await pg.CreateDatabaseAsync("schema_change");
        string dir = Path.Combine(Path.GetTempPath(), "mtactors-sql-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            foreach (string file in Directory.GetFiles(SchemaMigrator.DefaultScriptDirectory, "*.sql"))
                File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
            await SchemaMigrator.ApplyAsync(db, dir);

            File.AppendAllText(Path.Combine(dir, "003_persistence.sql"), "\n-- a comment changes the hash\n");
            Assert.Equal(["003_persistence.sql"], await SchemaMigrator.ApplyAsync(db, dir));

            File.WriteAllText(Path.Combine(dir, "004_broken.sql"), "CREATE TABLE should_not_exist (x int); SELECT * FROM no_such_table;");
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => SchemaMigrator.ApplyAsync(db, dir));
            Assert.Contains("004_broken.sql", ex.Message);
            Assert.Equal(0, await Sql.CountAsync(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'should_not_exist'"));
            Assert.Equal(0, await Sql.CountAsync(db, "SELECT count(*) FROM mtactors_schema_migrations WHERE script = '004_broken.sql'"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_duplicate_storage_row_is_impossible()
    {
        string db = await pg.CreateMigratedDatabaseAsync("schema_dup");
        const string insert = """
            INSERT INTO grain_state (serviceid, graintypestring, grainidn0, grainidn1, payloadbinary, version)
            VALUES ('svc', 'session', 1, 2, '\x00', 1)
            """;
        await Sql.ExecuteAsync(db, insert);
        var ex = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecuteAsync(db, insert));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, ex.SqlState);
        // A missing key extension is stored as '' so NULLs cannot sneak a second row in either.
        const string insertNullExtension = """
            INSERT INTO grain_state (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring, payloadbinary, version)
            VALUES ('svc', 'session', 1, 2, NULL, '\x00', 1)
            """;
        var ex2 = await Assert.ThrowsAsync<PostgresException>(() => Sql.ExecuteAsync(db, insertNullExtension));
        Assert.Equal(PostgresErrorCodes.NotNullViolation, ex2.SqlState);
    }
}
