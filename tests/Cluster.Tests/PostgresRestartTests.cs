using System.Collections.Concurrent;
using System.Diagnostics;
using MtActors.Cluster.Tests.Infrastructure;
using MtActors.Grains;
using MtActors.Protocol.Schema;
using Xunit.Abstractions;

namespace MtActors.Cluster.Tests;

/// <summary>PostgreSQL stops like a crash (pg_ctl -m immediate) under load and comes back on the same port.</summary>
public sealed class PostgresRestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Call = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_postgres_restart_under_load_costs_errors_or_delays_but_no_crash_and_no_loss()
    {
        await using var cluster = await SiloCluster.StartAsync(new SiloClusterOptions { Silos = 2, DurablePostgres = true });
        var grains = await cluster.ClientAsync();
        var (authKeyId, salt) = await GrainSession.RegisterKeyAsync(grains);
        var sessions = new List<(GrainSession Session, long UniqueId, IncomingFrame First, long FirstPong)>();
        for (var i = 0; i < 30; i++)
        {
            var s = new GrainSession(authKeyId, GrainSession.NewSessionId(), salt);
            var first = s.PingFrame(i);
            var answers = await s.SendAsync(grains, first, Call);
            sessions.Add((s, answers.Select(a => a.Value).OfType<NewSessionCreated>().Single().UniqueId, first,
                answers.Single(a => a.Value is Pong p && p.MsgId == first.MsgId).MsgId));
        }

        // Load: every session pings; sessions created during the run must exist afterwards too.
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var created = new ConcurrentBag<(GrainSession Session, long UniqueId)>();
        var maxServerId = new ConcurrentDictionary<long, long>();
        var failures = new ConcurrentBag<string>();
        var ok = 0;
        var errors = 0;
        var lastError = TimeSpan.Zero;
        var lastOk = new ConcurrentDictionary<long, TimeSpan>();
        var loops = sessions.Select((t, n) => Task.Run(async () =>
        {
            var k = 0;
            while (!stop.IsCancellationRequested)
            {
                // Every 10th round a brand-new session of the same key.
                var s = ++k % 10 == 0 ? new GrainSession(authKeyId, GrainSession.NewSessionId(), salt) : t.Session;
                var frame = s.PingFrame(k);
                try
                {
                    var answers = await s.SendAsync(grains, frame, Call);
                    foreach (var a in answers)
                    {
                        if (maxServerId.TryGetValue(s.SessionId, out var max) && a.MsgId <= max)
                        {
                            failures.Add($"server msg_id {a.MsgId:x} not above {max:x}");
                        }

                        maxServerId[s.SessionId] = Math.Max(max, a.MsgId);
                        if (a.Value is NewSessionCreated nsc)
                        {
                            if (s == t.Session)
                            {
                                failures.Add($"session {s.SessionId:x} created again");
                            }
                            else
                            {
                                created.Add((s, nsc.UniqueId));
                            }
                        }
                    }

                    if (answers.Any(a => a.Value is Pong p && p.MsgId == frame.MsgId))
                    {
                        Interlocked.Increment(ref ok);
                        lastOk[s.SessionId] = clock.Elapsed;
                    }
                }
                catch (Exception) when (!stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref errors);
                    lastError = clock.Elapsed;
                    await Task.Delay(100);
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(2));
        var okBefore = ok;
        var restartAt = clock.Elapsed;
        await cluster.RestartPostgresAsync(outage: TimeSpan.FromSeconds(3));
        var backAt = clock.Elapsed;
        // Every original session answers again (bounded).
        var deadline = backAt + TimeSpan.FromSeconds(30);
        while (clock.Elapsed < deadline && sessions.Any(t => !lastOk.TryGetValue(t.Session.SessionId, out var at) || at < backAt))
        {
            await Task.Delay(100);
        }

        var recoveredAt = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1));
        stop.Cancel();
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"PostgreSQL down {(backAt - restartAt).TotalSeconds:0.0} s; all sessions answering again " +
                         $"{(recoveredAt - backAt).TotalSeconds:0.0} s after it was back; pings ok {okBefore} before / {ok} total, " +
                         $"errors {errors} (last {(lastError - restartAt).TotalSeconds:0.0} s after the stop), {created.Count} sessions created under load");

        Assert.Empty(failures);
        Assert.True(recoveredAt < deadline, "not every session answered within 30 s after PostgreSQL was back");
        Assert.All(cluster.Silos.Values, s => Assert.False(s.HasExited, $"silo {s.Instance} died:\n{s.Tail()}"));
        Assert.Equal(2, (await cluster.MembershipAsync()).Values.Count(v => v == 3));

        // Nothing acknowledged was lost; a replay of a frame from before the restart is not executed again.
        foreach (var (s, uniqueId, first, firstPong) in sessions)
        {
            Assert.Equal(uniqueId, (await s.Grain(grains).GetInfo().WaitAsync(Call))?.UniqueId);
            var replay = await s.SendAsync(grains, first, Call);
            Assert.DoesNotContain(replay, a => a.Value is NewSessionCreated);
            // Nothing new for it: at most the original pong re-sent under its original msg_id.
            Assert.DoesNotContain(replay, a => a.Value is Pong p && p.MsgId == first.MsgId && a.MsgId != firstPong);
        }

        foreach (var (s, uniqueId) in created)
        {
            Assert.Equal(uniqueId, (await s.Grain(grains).GetInfo().WaitAsync(Call))?.UniqueId);
        }
    }
}
