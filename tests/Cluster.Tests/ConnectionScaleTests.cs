using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MtActors.Cluster.Tests.Infrastructure;
using MtActors.Protocol.Client;
using Xunit.Abstractions;

namespace MtActors.Cluster.Tests;

/// <summary>
/// Many concurrent MTProto connections held by one silo, each with its own session. CI holds 1,000; the figure in
/// docs/scale-out.md is the same test with MTACTORS_CONNECTIONS=10000.
/// </summary>
public sealed class ConnectionScaleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task One_silo_holds_many_concurrent_connections_each_with_a_live_session()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("MTACTORS_CONNECTIONS"), NumberStyles.None,
            CultureInfo.InvariantCulture, out var n) ? n : 1000;
        // Client and silo (a child process: it inherits the limit) each need a descriptor per connection.
        var limit = Posix.RaiseOpenFileLimit((ulong)count + 2048);
        Assert.True(limit >= (ulong)count + 512, $"open-file limit {limit} is too low for {count} connections");

        await using var cluster = await SiloCluster.StartAsync(new SiloClusterOptions
        {
            Silos = 1,
            Arguments = [$"--MtActors:MtProto:MaxConnections={count + 100}"],
        });
        Protocol.Client.Handshake.ClientAuthKey key;
        await using (var first = await MtClient.ConnectAsync(cluster, 1))
        {
            key = await first.CreateAuthKeyAsync(MtClient.Handshake(cluster));
        }

        var rssBefore = Rss(cluster[1].Pid);
        var clients = new ConcurrentBag<(MtProtoConnection Connection, MtProtoSession Session)>();
        var clock = Stopwatch.StartNew();
        try
        {
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) < count)
                {
                    var connection = await MtClient.ConnectAsync(cluster, 1);
                    var session = connection.OpenSession(key.Key, key.InitialSalt,
                        new MtProtoSessionOptions { CallTimeout = TimeSpan.FromSeconds(60) });
                    clients.Add((connection, session));
                    await session.PingAsync();
                }
            }))).WaitAsync(TimeSpan.FromMinutes(10));
            var opened = clock.Elapsed;
            await Task.Delay(TimeSpan.FromSeconds(2));
            var rssHeld = Rss(cluster[1].Pid);

            // All still open and answering.
            clock.Restart();
            var all = clients.ToList();
            Assert.Equal(count, all.Count);
            Assert.All(all, c => Assert.True(c.Connection.IsOpen));
            var gate = new SemaphoreSlim(128);
            await Task.WhenAll(all.Select(async c =>
            {
                await gate.WaitAsync();
                try
                {
                    await c.Session.PingAsync();
                }
                finally
                {
                    gate.Release();
                }
            })).WaitAsync(TimeSpan.FromMinutes(10));
            output.WriteLine($"{count} connections, each with a new session, opened in {opened.TotalSeconds:0.0} s; all pinged again in " +
                             $"{clock.Elapsed.TotalSeconds:0.0} s; silo RSS {rssBefore / 1e6:0} MB -> {rssHeld / 1e6:0} MB " +
                             $"({(rssHeld - rssBefore) / (double)count / 1024:0.0} KiB per connection + session)");
            Assert.False(cluster[1].HasExited);
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.Connection.DisposeAsync().AsTask()));
        }
    }

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
