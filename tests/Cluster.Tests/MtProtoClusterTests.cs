using System.Collections.Concurrent;
using System.Diagnostics;
using MtActors.Cluster.Tests.Infrastructure;
using MtActors.Grains;
using MtActors.Protocol.Client;
using MtActors.Protocol.Schema;
using Xunit.Abstractions;

namespace MtActors.Cluster.Tests;

/// <summary>Real MTProto clients (src/Protocol.Client) over TCP against the gateways of several silo processes.</summary>
public sealed class MtProtoClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Call = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Any_silo_serves_any_session_and_a_client_that_moves_to_another_silo_keeps_its_session()
    {
        // Nobody is killed here: the product's failure detection, not the tests' hair trigger.
        await using var cluster = await SiloCluster.StartAsync(new SiloClusterOptions { Silos = 3, FastFailureDetection = false });
        var grains = await cluster.ClientAsync();
        var connection = await MtClient.ConnectAsync(cluster, 1);
        try
        {
            var key = await connection.CreateAuthKeyAsync(MtClient.Handshake(cluster));
            var sessionId = Random.Shared.NextInt64(1, long.MaxValue);
            var session = connection.OpenSession(key, new MtProtoSessionOptions { SessionId = sessionId, CallTimeout = Call });
            // Every server message (msg_id, body). A message still unacknowledged when a connection closes is sent again
            // on the next one with its msg_id and body (session-semantics.md): same id, same bytes.
            var seen = new ConcurrentQueue<(long MsgId, string Body)>();
            session.MessageReceived += m => seen.Enqueue((m.MsgId, Convert.ToHexString(m.Body.Span)));
            await session.PingAsync();
            var first = Assert.IsType<NewSessionCreated>(session.LastNewSession);
            var unique = first.UniqueId;
            var home = await cluster.LocateAsync(grains.GetSessionGrain(key.AuthKeyId, sessionId));
            output.WriteLine($"session created through silo 1, its grain lives on silo {home}");
            Assert.NotNull(home);

            // The client moves from silo to silo (each time a new TCP connection); the grain stays where it is.
            var served = new List<int>();
            foreach (var instance in new[] { 2, 3, 1, 2 })
            {
                var salt = session.Salt;
                var before = seen.Max(m => m.MsgId);
                await connection.DisposeAsync();
                connection = await MtClient.ConnectAsync(cluster, instance);
                session = connection.OpenSession(key.Key, salt, new MtProtoSessionOptions { SessionId = sessionId, CallTimeout = Call });
                session.MessageReceived += m => seen.Enqueue((m.MsgId, Convert.ToHexString(m.Body.Span)));
                await session.PingAsync();
                await session.PingAsync();
                // Same session: no new announcement. The first one may arrive again, unchanged, when the client had not
                // acknowledged it before closing the connection (seen under load).
                if (session.LastNewSession is not null && session.LastNewSession != first)
                {
                    // Say what membership and the silos said if it was announced anew.
                    var members = string.Join(", ", (await cluster.MembershipAsync()).Select(m => $"port {m.Key}: status {m.Value}"));
                    foreach (var silo in cluster.Silos.Values)
                    {
                        output.WriteLine($"--- silo {silo.Instance} log ---");
                        foreach (var line in File.ReadLines(silo.LogFile).Where(l => !l.Contains("RSA PUBLIC KEY"))) output.WriteLine(line);
                    }
                    Assert.Fail($"session announced again through silo {instance} ({session.LastNewSession}; first announced " +
                        $"unique_id {unique}, first_msg_id {first.FirstMsgId}); membership: {members}");
                }
                Assert.True(seen.Count(m => m.MsgId > before) >= 2, "server msg_ids did not continue above the previous connection's");
                served.Add(instance);
            }

            Assert.Contains(served, i => i != home); // served through a silo that does not host the grain
            // One body per msg_id: an id that came twice was a re-send of the same message, never a reused id.
            Assert.All(seen.GroupBy(m => m.MsgId), g => Assert.Single(g.Select(m => m.Body).Distinct()));
            Assert.Equal(home, await cluster.LocateAsync(grains.GetSessionGrain(key.AuthKeyId, sessionId)));
            var info = await grains.GetSessionGrain(key.AuthKeyId, sessionId).GetInfo();
            Assert.Equal(unique, info?.UniqueId);
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task Clients_of_a_killed_silo_reconnect_elsewhere_within_10_s_and_frames_captured_before_are_refused()
    {
        await using var cluster = await SiloCluster.StartAsync(new SiloClusterOptions { Silos = 3 });
        var grains = await cluster.ClientAsync();
        // Twelve clients connected to silo 2, one session each on one auth key.
        AuthKeyHolder keyHolder;
        await using (var first = await MtClient.ConnectAsync(cluster, 2))
        {
            keyHolder = new AuthKeyHolder(await first.CreateAuthKeyAsync(MtClient.Handshake(cluster)));
        }

        var clients = new List<Client>();
        try
        {
            for (var i = 0; i < 12; i++)
            {
                var c = new Client(Random.Shared.NextInt64(1, long.MaxValue), await MtClient.ConnectAsync(cluster, 2), keyHolder);
                clients.Add(c);
                await c.Session.PingAsync();
                c.UniqueId = Assert.IsType<NewSessionCreated>(c.Session.LastNewSession).UniqueId;
                c.Home = await cluster.LocateAsync(grains.GetSessionGrain(keyHolder.Key.AuthKeyId, c.SessionId));
                // A frame captured now, replayed after the crash.
                c.Captured = MtClient.PingFrame(c.Session, 1000 + i, out var msgId);
                c.CapturedMsgId = msgId;
                var pong = c.Session.WaitForMessageAsync(m => m.TryParse() is Pong p && p.MsgId == msgId, Call);
                c.Connection.SendFrame(c.Captured);
                await pong;
            }

            output.WriteLine("sessions' grains on silos " + string.Join(",", clients.Select(c => c.Home)));
            var killedAt = Stopwatch.StartNew();
            await cluster[2].KillAsync();

            // Every client reconnects to a surviving silo with its session and pings until answered.
            var others = new[] { 1, 3 };
            var recovered = await Task.WhenAll(clients.Select(async (c, n) =>
            {
                var salt = c.Session.Salt;
                await c.Connection.DisposeAsync();
                var deadline = TimeSpan.FromSeconds(30);
                while (true)
                {
                    try
                    {
                        c.Connection = await MtClient.ConnectAsync(cluster, others[n % 2]);
                        c.Session = c.Connection.OpenSession(keyHolder.Key.Key, salt,
                            new MtProtoSessionOptions { SessionId = c.SessionId, CallTimeout = TimeSpan.FromSeconds(3) });
                        await MtClient.PingUntilAnsweredAsync(c.Session, deadline - killedAt.Elapsed, TimeSpan.FromSeconds(3));
                        return killedAt.Elapsed;
                    }
                    catch (Exception) when (killedAt.Elapsed < deadline)
                    {
                        await c.Connection.DisposeAsync();
                        await Task.Delay(200);
                    }
                }
            }));
            output.WriteLine("answered again after (s): " + string.Join(" ", recovered.Select(r => r.TotalSeconds.ToString("0.00"))));
            Assert.All(recovered, r => Assert.True(r <= TimeSpan.FromSeconds(10), $"a client was served again only after {r.TotalSeconds:0.0} s"));

            foreach (var c in clients)
            {
                // The captured frame, replayed byte for byte: never a second pong for it.
                var answers = new ConcurrentQueue<ReceivedMessage>();
                c.Session.MessageReceived += answers.Enqueue;
                c.Connection.SendFrame(c.Captured);
                await c.Session.PingAsync(); // a later message: its answer arrives after anything the replay caused
                await Task.Delay(200);
                Assert.DoesNotContain(answers, m => m.TryParse() is Pong p && p.MsgId == c.CapturedMsgId);

                // The session still exists: either the same (its grain was elsewhere) or announced once as recovered
                // after the crash (new_session_created with a fresh unique_id, docs/session-semantics.md).
                var info = await grains.GetSessionGrain(keyHolder.Key.AuthKeyId, c.SessionId).GetInfo();
                Assert.NotNull(info);
                if (c.Home == 2)
                {
                    Assert.NotEqual(c.UniqueId, info.UniqueId);
                }
                else
                {
                    Assert.Equal(c.UniqueId, info.UniqueId);
                }
            }
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.Connection.DisposeAsync();
            }
        }
    }

    private sealed record AuthKeyHolder(Protocol.Client.Handshake.ClientAuthKey Key);

    private sealed class Client
    {
        public Client(long sessionId, MtProtoConnection connection, AuthKeyHolder key)
        {
            SessionId = sessionId;
            Connection = connection;
            Session = connection.OpenSession(key.Key, new MtProtoSessionOptions { SessionId = sessionId, CallTimeout = Call });
        }

        public long SessionId { get; }

        public MtProtoConnection Connection { get; set; }

        public MtProtoSession Session { get; set; }

        public long UniqueId { get; set; }

        public int? Home { get; set; }

        public byte[] Captured { get; set; } = [];

        public long CapturedMsgId { get; set; }
    }
}
