using System.Diagnostics;
using System.Globalization;
using MtActors.Grains;
using MtActors.ScaleBench;
using Npgsql;

// Scale figures of docs/scale-out.md, each measured in one run:
//   cycles  [--count 4000] [--concurrency 32] [--rounds 3] [--raw-defaults] [--grains-only]
//                                                             session create+destroy through the grains vs raw Npgsql
//                                                             (raw on the silo's connection settings; --raw-defaults: Npgsql's;
//                                                             --grains-only: the grain cycle alone, for a profiler)
//   memory  [--count 10000] [--hold S]                        bytes per idle activation, and after idle deactivation
//                                                             (--hold: keep the idle activations S seconds, for a heap dump)
//   wake    [--count 4000] [--concurrency 32] [--rounds 3] [--seqno 1001]
//                                                             stored sessions woken by a ping after all were deactivated
//   persist [--count 2000] [--concurrency 64] [--keep]         N persisted sessions through the grains: time, table size
//   frames  [--count 200000] [--concurrency 16] [--rounds 3]   ping frames through live sessions (ProcessFrame, as the
//                                                             gateway calls it): rate, CPU and bytes allocated per frame
// Add --throwaway for PostgreSQL without fsync/synchronous_commit (default: durable settings).
var command = args.FirstOrDefault() ?? "help";
int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

var throwaway = args.Contains("--throwaway");
switch (command)
{
    case "cycles":
        return await Cycles(Arg("count", 4000), Arg("concurrency", 32), Arg("rounds", 3));
    case "memory":
        return await Memory(Arg("count", 10_000));
    case "wake":
        return await Wake(Arg("count", 4000), Arg("concurrency", 32), Arg("rounds", 3));
    case "persist":
        return await Persist(Arg("count", 2000), Arg("concurrency", 64));
    case "frames":
        return await Frames(Arg("count", 200_000), Arg("concurrency", 16), Arg("rounds", 3));
    default:
        Console.Error.WriteLine("usage: MtActors.ScaleBench cycles|memory|wake|persist|frames [--count N] [--concurrency C] [--rounds R] [--throwaway]");
        return command == "help" ? 0 : 2;
}

static double Median(IEnumerable<double> x)
{
    var sorted = x.Order().ToList();
    return sorted[sorted.Count / 2];
}

static void Log(string line) => Console.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");

static string LoadNote()
{
    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
    return $"{Environment.ProcessorCount} cores, load average {load}";
}

async Task<int> Cycles(int count, int concurrency, int rounds)
{
    await using var silo = await BenchSilo.StartAsync(throwaway);
    var grains = silo.Grains;
    var keys = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => BenchSessions.RegisterKeyAsync(grains)));
    // The raw statements run on the connection settings the silo gives its own connections (no reset on close,
    // auto-prepare), so the ratio compares the grains with the best the same statements can do; --raw-defaults
    // measures them on Npgsql's defaults instead.
    var rawDefaults = args.Contains("--raw-defaults");
    await using var data = NpgsqlDataSource.Create(rawDefaults
        ? silo.Postgres.ConnectionString
        : MtActors.Silo.Hosting.OrleansStorageExtensions.TuneConnectionString(silo.Postgres.ConnectionString));

    // The session row as the grains write it (same payload bytes) for the raw statements.
    var probe = BenchSessions.NewSessionId();
    await BenchSessions.CreateAsync(grains, keys[0].AuthKeyId, keys[0].Salt, probe);
    byte[] payload;
    await using (var cmd = data.CreateCommand("SELECT payloadbinary FROM grain_state WHERE graintypestring = 'session' AND grainidn1 = $1"))
    {
        cmd.Parameters.AddWithValue(probe);
        payload = (byte[])(await cmd.ExecuteScalarAsync())!;
    }

    await grains.GetSessionGrain(keys[0].AuthKeyId, probe).Destroy();

    // Key rows of their own for the raw statements (copies of a real key row), so the grains' rows stay theirs.
    var rawKeys = keys.Select(_ => BenchSessions.NewSessionId()).ToArray();
    foreach (var rawKey in rawKeys)
    {
        await using var copy = data.CreateCommand(
            "INSERT INTO grain_state (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring, payloadbinary, version) " +
            "SELECT serviceid, graintypestring, grainidn0, $1, '', payloadbinary, 1 FROM grain_state " +
            "WHERE graintypestring = 'authkey' AND grainidn1 = $2");
        copy.Parameters.AddWithValue(rawKey);
        copy.Parameters.AddWithValue(keys[0].AuthKeyId);
        await copy.ExecuteNonQueryAsync();
    }

    Log($"cycles: {count} per round, {concurrency} workers (one auth key each), {rounds} rounds; session row payload {payload.Length} bytes; " +
        $"raw statements on {(rawDefaults ? "Npgsql's default connection settings" : "the silo's connection settings")}; {LoadNote()}");

    var cpuPerCycle = new Dictionary<string, double>(); // this process's CPU time per cycle (not PostgreSQL's), by variant
    async Task<double> Run(Func<int, Task> cycle, string name = "")
    {
        var per = count / concurrency;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < per; i++)
            {
                await cycle(w);
            }
        })));
        var elapsed = sw.Elapsed;
        cpuPerCycle[name] = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / (per * concurrency);
        return per * concurrency / elapsed.TotalSeconds;
    }

    Task GrainCycle(int w) => GrainCycleAsync(w);
    async Task GrainCycleAsync(int w)
    {
        var (key, salt) = keys[w];
        var id = BenchSessions.NewSessionId();
        await BenchSessions.CreateAsync(grains, key, salt, id);
        if (!await grains.GetSessionGrain(key, id).Destroy())
        {
            throw new InvalidOperationException("destroy: none");
        }
    }

    async Task RawCycle(int w, bool withKeyRow, bool withRead = false)
    {
        var key = rawKeys[w];
        var id = BenchSessions.NewSessionId();
        if (withRead)
        {
            // What a new session's activation does first: read its (absent) row.
            await using var read = data.CreateCommand(
                "SELECT payloadbinary, version FROM grain_state WHERE serviceid = $1 AND graintypestring = 'session' AND grainidn0 = $2 AND grainidn1 = $3 AND grainidextensionstring = ''");
            read.Parameters.AddWithValue(silo.ServiceId);
            read.Parameters.AddWithValue(key);
            read.Parameters.AddWithValue(id);
            if (await read.ExecuteScalarAsync() is not null)
            {
                throw new InvalidOperationException("row exists");
            }
        }

        await using (var insert = data.CreateCommand(
            "INSERT INTO grain_state (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring, payloadbinary, version) " +
            "VALUES ($1, 'session', $2, $3, '', $4, 1)"))
        {
            insert.Parameters.AddWithValue(silo.ServiceId);
            insert.Parameters.AddWithValue(key);
            insert.Parameters.AddWithValue(id);
            insert.Parameters.AddWithValue(payload);
            await insert.ExecuteNonQueryAsync();
        }

        if (withKeyRow)
        {
            await TouchKeyRow(key);
        }

        await using (var delete = data.CreateCommand(
            "DELETE FROM grain_state WHERE serviceid = $1 AND graintypestring = 'session' AND grainidn0 = $2 AND grainidn1 = $3 AND grainidextensionstring = ''"))
        {
            delete.Parameters.AddWithValue(silo.ServiceId);
            delete.Parameters.AddWithValue(key);
            delete.Parameters.AddWithValue(id);
            if (await delete.ExecuteNonQueryAsync() != 1)
            {
                throw new InvalidOperationException("row not deleted");
            }
        }

        if (withKeyRow)
        {
            await TouchKeyRow(key);
        }
    }

    // The statements the grains' storage provider runs (deploy/sql's WriteToStorageKey and ClearStorageKey texts, named
    // parameters as the provider binds them), issued directly: the SQL's own cost, without Orleans and the provider.
    string writeSql, clearSql;
    await using (var q = data.CreateCommand("SELECT querytext FROM orleansquery WHERE querykey = $1"))
    {
        q.Parameters.AddWithValue("WriteToStorageKey");
        writeSql = (string)(await q.ExecuteScalarAsync())!;
        q.Parameters[0].Value = "ClearStorageKey";
        clearSql = (string)(await q.ExecuteScalarAsync())!;
    }

    async Task ProviderSqlCycle(int w)
    {
        var key = rawKeys[w];
        var id = BenchSessions.NewSessionId();
        void Bind(NpgsqlCommand c, int? version)
        {
            c.Parameters.AddWithValue("GrainIdHash", 0);
            c.Parameters.AddWithValue("GrainIdN0", key);
            c.Parameters.AddWithValue("GrainIdN1", id);
            c.Parameters.AddWithValue("GrainTypeHash", 0);
            c.Parameters.AddWithValue("GrainTypeString", "session");
            c.Parameters.Add(new NpgsqlParameter("GrainIdExtensionString", NpgsqlTypes.NpgsqlDbType.Varchar) { Value = DBNull.Value });
            c.Parameters.AddWithValue("ServiceId", silo.ServiceId);
            c.Parameters.Add(new NpgsqlParameter("GrainStateVersion", NpgsqlTypes.NpgsqlDbType.Integer) { Value = version is { } v ? v : DBNull.Value });
        }

        await using (var write = data.CreateCommand(writeSql))
        {
            Bind(write, null);
            write.Parameters.AddWithValue("PayloadBinary", payload);
            if (await write.ExecuteScalarAsync() is not int version || version != 1) throw new InvalidOperationException("provider insert refused");
        }

        await using (var clear = data.CreateCommand(clearSql))
        {
            Bind(clear, 1);
            if (await clear.ExecuteScalarAsync() is null) throw new InvalidOperationException("provider delete refused");
        }
    }

    async Task TouchKeyRow(long key)
    {
        await using var update = data.CreateCommand(
            "UPDATE grain_state SET version = version + 1, payloadbinary = payloadbinary, modifiedon = now() " +
            "WHERE serviceid = $1 AND graintypestring = 'authkey' AND grainidn0 = 0 AND grainidn1 = $2 AND grainidextensionstring = ''");
        update.Parameters.AddWithValue(silo.ServiceId);
        update.Parameters.AddWithValue(key);
        await update.ExecuteNonQueryAsync();
    }

    if (args.Contains("--grains-only"))
    {
        // Only the grain cycle, round after round (to attach a profiler to): rate and this process's CPU per cycle.
        for (var i = 0; i < rounds; i++) Log($"grains only, round {i + 1}: {await Run(GrainCycle, "grains"):0} cycles/s, CPU {cpuPerCycle["grains"]:0.000} ms per cycle");
        return 0;
    }

    // Warm-up, then interleaved rounds (a loaded machine drifts; each ratio compares neighbours).
    using var statements = new StatementCounter();
    await Run(GrainCycle);
    await Run(w => RawCycle(w, false));
    await Run(GrainCycle);
    var grainRates = new List<double>();
    var rawRates = new List<double>();
    var rawReadRates = new List<double>();
    var rawKeyRates = new List<double>();
    var providerSqlRates = new List<double>();
    var perCycle = "";
    for (var r = 0; r < rounds; r++)
    {
        if (r == rounds - 1)
        {
            // Only the last round counts statements (counting costs a little: the rates of that round are not used).
            statements.Enabled = true;
            await Run(GrainCycle);
            statements.Enabled = false;
            perCycle = statements.Report(count / concurrency * concurrency, count / 10);
        }

        grainRates.Add(await Run(GrainCycle, "grains"));
        rawRates.Add(await Run(w => RawCycle(w, false), "raw"));
        rawReadRates.Add(await Run(w => RawCycle(w, false, withRead: true), "raw+read"));
        rawKeyRates.Add(await Run(w => RawCycle(w, true), "raw+key"));
        providerSqlRates.Add(await Run(ProviderSqlCycle, "provider SQL"));
        Log($"round {r + 1}: grains {grainRates[^1]:0} cycles/s, raw insert+delete {rawRates[^1]:0}/s, raw read+insert+delete {rawReadRates[^1]:0}/s, " +
            $"raw insert+delete with two key-row updates {rawKeyRates[^1]:0}/s, the provider's own statements issued directly {providerSqlRates[^1]:0}/s");
    }

    Log($"grains' statements per cycle (an extra run): {perCycle}");
    Log("client-side CPU per cycle (last round): " + string.Join(", ", cpuPerCycle.Where(k => k.Key != "").Select(k => $"{k.Key} {k.Value:0.00} ms")));
    Log($"RESULT cycles: grains {Median(grainRates):0}/s; raw insert+delete {Median(rawRates):0}/s -> ratio {Median(grainRates) / Median(rawRates):0.00}; " +
        $"raw read+insert+delete {Median(rawReadRates):0}/s -> ratio {Median(grainRates) / Median(rawReadRates):0.00}; " +
        $"raw insert+delete+2 key-row updates {Median(rawKeyRates):0}/s -> ratio {Median(grainRates) / Median(rawKeyRates):0.00}; " +
        $"the provider's statements issued directly {Median(providerSqlRates):0}/s -> ratio {Median(grainRates) / Median(providerSqlRates):0.00}; {LoadNote()}");
    return 0;
}

async Task<int> Wake(int count, int concurrency, int rounds)
{
    // Stored sessions whose activations are gone (idle deactivation, a silo restart) woken again by their next frame:
    // each wake activates the grain, which finds its row (the cost a new activation pays for an existing session).
    await using var silo = await BenchSilo.StartAsync(throwaway);
    var grains = silo.Grains;
    var management = grains.GetGrain<IManagementGrain>(0);
    var keys = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => BenchSessions.RegisterKeyAsync(grains)));
    var sessions = new (long Key, long Salt, long Id)[count];
    for (var i = 0; i < count; i++) sessions[i] = (keys[i % keys.Length].AuthKeyId, keys[i % keys.Length].Salt, BenchSessions.NewSessionId());
    // Wake pings carry the seq_no of a client that has sent hundreds of messages in the session (--seqno to change it;
    // 1 = a session resumed right after its first message).
    var wakeSeqNo = Arg("seqno", 1001);
    async Task<double> PingAll(int seqNo)
    {
        var next = -1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await BenchSessions.PingAsync(grains, sessions[i].Key, sessions[i].Salt, sessions[i].Id, seqNo);
            }
        })));
        return count / sw.Elapsed.TotalSeconds;
    }

    async Task DeactivateAll()
    {
        await Collect(management, TimeSpan.Zero);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (await management.GetTotalActivationCount() > 50 && DateTime.UtcNow < deadline) await Task.Delay(200);
    }

    Log($"wake: {count} sessions, {concurrency} workers, {rounds} rounds, wake pings with seq_no {wakeSeqNo}+; {LoadNote()}");
    var created = await PingAll(1);
    Log($"created {count} sessions: {created:0}/s");
    using var statements = new StatementCounter();
    var rates = new List<double>();
    var cpu = new List<double>();
    for (var r = 0; r < rounds; r++)
    {
        await DeactivateAll();
        statements.Enabled = r == rounds - 1;
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        rates.Add(await PingAll(wakeSeqNo + 2 * r));
        cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - before).TotalMilliseconds / count);
        statements.Enabled = false;
        Log($"round {r + 1}: {rates[^1]:0} wakes/s, CPU {cpu[^1]:0.000} ms per wake (this process, key grains woken too)");
    }

    Log($"statements per wake (last round): {statements.Report(count, count / 10)}");
    Log($"RESULT wake: median {Median(rates):0} wakes/s, CPU {Median(cpu):0.000} ms per wake; {LoadNote()}");
    return 0;
}

async Task<int> Frames(int count, int concurrency, int rounds)
{
    // The steady state of a live session: one ping frame after another on the same connection, each answered by a pong.
    // What the silo process spends per frame besides the gateway's transport and crypto (grain call, session layer,
    // background persistence): rate, CPU time and bytes allocated (GC.GetTotalAllocatedBytes, the whole process).
    await using var silo = await BenchSilo.StartAsync(throwaway);
    var grains = silo.Grains;
    var sessions = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        var (key, salt) = await BenchSessions.RegisterKeyAsync(grains);
        return new BenchSessions.LiveSession(grains, key, salt, BenchSessions.NewSessionId());
    }));
    Log($"frames: {count} per round, {concurrency} sessions (one worker each), {rounds} rounds; {LoadNote()}");
    async Task<(double Rate, double Cpu, double Bytes)> Round(int frames)
    {
        var per = frames / concurrency;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(sessions.Select(s => Task.Run(async () =>
        {
            for (var i = 0; i < per; i++) await s.PingAsync();
        })));
        var elapsed = sw.Elapsed;
        var n = (double)per * concurrency;
        return (n / elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / n,
            (GC.GetTotalAllocatedBytes(precise: false) - allocated) / n);
    }

    await Round(Math.Max(concurrency, count / 4)); // warm-up: sessions created, code tiered up
    var results = new List<(double Rate, double Cpu, double Bytes)>();
    for (var r = 0; r < rounds; r++)
    {
        results.Add(await Round(count));
        Log($"round {r + 1}: {results[^1].Rate:0} frames/s, CPU {results[^1].Cpu:0.0} us per frame, {results[^1].Bytes:0} bytes allocated per frame");
    }

    var median = results.OrderBy(x => x.Rate).ElementAt(results.Count / 2);
    Log($"RESULT frames: median round {median.Rate:0} frames/s, CPU {median.Cpu:0.0} us and {median.Bytes:0} bytes allocated per frame (this process); {LoadNote()}");
    return 0;
}

async Task<int> Memory(int count)
{
    await using var silo = await BenchSilo.StartAsync(throwaway);
    var grains = silo.Grains;
    var keys = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => BenchSessions.RegisterKeyAsync(grains)));
    var management = grains.GetGrain<IManagementGrain>(0);
    await CreateMany(grains, keys, 500, 64, null);
    await management.ForceActivationCollection(TimeSpan.Zero);
    await Task.Delay(2000);

    (long Managed, long Rss, int Activations) Measure()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return (GC.GetTotalMemory(true), BenchSilo.Rss(), 0);
    }

    var before = Measure();
    var activationsBefore = await management.GetTotalActivationCount();
    var sw = Stopwatch.StartNew();
    await CreateMany(grains, keys, count, 64, null);
    var created = sw.Elapsed;
    var active = Measure();
    var activationsActive = await management.GetTotalActivationCount();
    if (Arg("hold", 0) is > 0 and var hold)
    {
        // Time to take a heap dump of the idle activations (dotnet-gcdump collect -p <pid>).
        Log($"holding {activationsActive} activations for {hold} s (process {Environment.ProcessId})");
        await Task.Delay(TimeSpan.FromSeconds(hold));
    }
    sw.Restart();
    await Collect(management, TimeSpan.Zero);
    var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
    int remaining;
    while ((remaining = await management.GetTotalActivationCount()) > activationsBefore + 10 && DateTime.UtcNow < deadline)
    {
        await Task.Delay(500);
    }

    var deactivated = sw.Elapsed;
    var after = Measure();
    Log($"RESULT memory: {count} sessions created in {created.TotalSeconds:0.0} s; activations {activationsBefore} -> {activationsActive} -> {remaining} after idle deactivation ({deactivated.TotalSeconds:0.0} s)");
    Log($"RESULT memory: managed heap {before.Managed / 1e6:0.0} MB -> {active.Managed / 1e6:0.0} MB -> {after.Managed / 1e6:0.0} MB = " +
        $"{(active.Managed - before.Managed) / (double)count:0} bytes per idle activation, {(after.Managed - before.Managed) / (double)count:0} bytes per session after deactivation");
    Log($"RESULT memory: RSS {before.Rss / 1e6:0.0} MB -> {active.Rss / 1e6:0.0} MB -> {after.Rss / 1e6:0.0} MB = {(active.Rss - before.Rss) / (double)count:0} bytes per idle activation; {LoadNote()}");
    return 0;
}

async Task<int> Persist(int count, int concurrency)
{
    await using var silo = await BenchSilo.StartAsync(throwaway);
    var grains = silo.Grains;
    // About 100 sessions per auth key (a key lists its sessions in its own row).
    var keys = await Task.WhenAll(Enumerable.Range(0, Math.Max(concurrency, count / 100)).Select(_ => BenchSessions.RegisterKeyAsync(grains)));
    var management = grains.GetGrain<IManagementGrain>(0);
    Log($"persist: {count} sessions through the grains, {concurrency} in flight, {keys.Length} auth keys; {LoadNote()}");
    var sw = Stopwatch.StartNew();
    await CreateMany(grains, keys, count, concurrency, management);
    var elapsed = sw.Elapsed;
    await Collect(management, TimeSpan.Zero);
    await using var data = NpgsqlDataSource.Create(silo.Postgres.ConnectionString);
    await using var rows = data.CreateCommand("SELECT count(*) FROM grain_state WHERE graintypestring = 'session'");
    var n = (long)(await rows.ExecuteScalarAsync())!;
    await using var size = data.CreateCommand("SELECT pg_total_relation_size('grain_state'), pg_relation_size('grain_state'), pg_indexes_size('grain_state')");
    await using var reader = await size.ExecuteReaderAsync();
    await reader.ReadAsync();
    var (total, heap, index) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    Log($"RESULT persist: {n} session rows (+{keys.Length} key rows) created through the grains in {elapsed.TotalSeconds:0.0} s = {count / elapsed.TotalSeconds:0}/s; " +
        $"grain_state {total / 1e6:0.0} MB total ({heap / 1e6:0.0} MB heap + TOAST, {index / 1e6:0.0} MB index) = {total / (double)n:0} bytes per session; {LoadNote()}");
    if (n < count)
    {
        Console.Error.WriteLine($"only {n} of {count} session rows");
        return 1;
    }

    return 0;
}

// Creates `count` sessions over the keys, `concurrency` at a time; with a management grain, idle sessions are
// deactivated every 50,000 so that memory stays bounded (a deactivation is one final row write each).
static async Task CreateMany(IGrainFactory grains, (long AuthKeyId, long Salt)[] keys, int count, int concurrency, IManagementGrain? collect)
{
    var next = -1;
    var done = 0;
    var retries = 0;
    var progress = Stopwatch.StartNew();
    var lastReport = TimeSpan.Zero;
    var gate = new SemaphoreSlim(1, 1);
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            var (key, salt) = keys[i % keys.Length];
            // A retry reuses the session id: a call that timed out may still have created the row.
            var sessionId = BenchSessions.NewSessionId();
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await BenchSessions.CreateAsync(grains, key, salt, sessionId);
                    break;
                }
                catch (Exception ex) when (attempt < 3)
                {
                    if (Interlocked.Increment(ref retries) <= 5) Log($"  retrying a creation after {ex.GetType().Name}: {ex.Message}");
                    await Task.Delay(100);
                }
            }

            var d = Interlocked.Increment(ref done);
            if (collect is not null && d % 50_000 == 0)
            {
                await Collect(collect, TimeSpan.FromSeconds(5));
            }

            if (progress.Elapsed - lastReport > TimeSpan.FromSeconds(10) && await gate.WaitAsync(0))
            {
                lastReport = progress.Elapsed;
                Log($"  {d} / {count} ({d / progress.Elapsed.TotalSeconds:0}/s)");
                gate.Release();
            }
        }
    })));
    if (retries > 0) Log($"  {retries} creation calls failed and were retried with the same session id");
}

// Deactivates idle activations; with many of them the call outlives its response timeout while the work goes on.
static async Task Collect(IManagementGrain management, TimeSpan age)
{
    try
    {
        await management.ForceActivationCollection(age);
    }
    catch (TimeoutException)
    {
    }
}
