using System.Collections.Concurrent;
using System.Diagnostics;
using MtActors.Cluster.Tests.Infrastructure;
using MtActors.Grains;
using MtActors.Protocol.Schema;
using Npgsql;
using Xunit.Abstractions;

namespace MtActors.Cluster.Tests;

/// <summary>
/// Many sessions persisted through the grains (the CI-sized version of the million-session run in docs/scale-out.md),
/// then every silo killed at once: all of them come back from PostgreSQL.
/// </summary>
public sealed class PersistedSessionsTests(ITestOutputHelper output)
{
    private const int Sessions = 2000;
    private static readonly TimeSpan Call = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Two_thousand_sessions_created_through_the_grains_all_come_back_after_every_silo_is_killed()
    {
        await using var cluster = await SiloCluster.StartAsync(new SiloClusterOptions { Silos = 2 });
        var grains = await cluster.ClientAsync();
        var keys = new List<(long AuthKeyId, long Salt)>();
        for (var i = 0; i < 20; i++)
        {
            keys.Add(await GrainSession.RegisterKeyAsync(grains));
        }

        var created = new ConcurrentBag<(GrainSession Session, long UniqueId, long LastServerMsgId)>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) is var i && i < Sessions)
            {
                var (key, salt) = keys[i % keys.Count];
                var s = new GrainSession(key, GrainSession.NewSessionId(), salt);
                var answers = await s.SendAsync(grains, s.PingFrame(i), Call);
                var nsc = answers.Select(a => a.Value).OfType<NewSessionCreated>().Single();
                created.Add((s, nsc.UniqueId, answers.Max(a => a.MsgId)));
            }
        })));
        var elapsed = clock.Elapsed;

        await using var data = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using (var count = data.CreateCommand("SELECT count(*), pg_total_relation_size('grain_state') FROM grain_state WHERE graintypestring = 'session'"))
        await using (var reader = await count.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            output.WriteLine($"{Sessions} sessions through the grains in {elapsed.TotalSeconds:0.0} s ({Sessions / elapsed.TotalSeconds:0}/s); " +
                             $"grain_state {reader.GetInt64(1) / 1024} KiB");
            Assert.Equal(Sessions, reader.GetInt64(0));
        }

        // Every silo dies at once (no deactivation, no final write); one starts again and serves them all.
        await Task.WhenAll(cluster.Silos.Values.Select(s => s.KillAsync()));
        await cluster.StartSiloAsync(1);
        var after = await cluster.ClientAsync(via: 1);

        var all = created.ToList();
        Assert.Equal(Sessions, all.Count);
        foreach (var (s, uniqueId, _) in all.Where((_, i) => i % 10 == 0))
        {
            var info = await s.Grain(after).GetInfo().WaitAsync(Call);
            Assert.Equal(uniqueId, info?.UniqueId);
        }

        // They keep working: server msg_ids continue above what was sent before the crash.
        foreach (var (s, _, lastServerMsgId) in all.Take(50))
        {
            var answers = await s.SendAsync(after, s.PingFrame(7), Call);
            Assert.Contains(answers, a => a.Value is Pong);
            Assert.All(answers, a => Assert.True(a.MsgId > lastServerMsgId));
        }
    }
}
