using System.Diagnostics;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Schema;
using Xunit.Abstractions;

namespace MtActors.Grains.Tests.Sessions;

/// <summary>
/// Many sessions at once through ProcessFrame on the real PostgreSQL: every query answered exactly once, in order,
/// and the session rows durable. Prints frames per second (run with --logger "console;verbosity=detailed").
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SessionLoadTests(PostgresFixture pg, ITestOutputHelper output)
{
    [Fact]
    public async Task Fifty_sessions_in_parallel_get_every_answer_once_and_in_order()
    {
        SharedCluster c = await TestApi.ClusterAsync(pg);
        SessionClient first = await SessionClient.CreateAsync(c);
        var clients = new List<SessionClient> { first };
        for (int i = 1; i < 50; i++) clients.Add(first.OtherSession());
        foreach (SessionClient client in clients) await client.SendAsync(new Ping(0));

        const int perSession = 100;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async client =>
        {
            long lastAnswer = 0;
            for (int i = 0; i < perSession; i++)
            {
                byte[] echo = SessionClient.Echo(64);
                echo[8] = (byte)i;
                long id = client.NextMsgId();
                Reply reply = await client.SendAsync(echo, true, id);
                Assert.Equal(echo, reply.ResultOf(id));
                long answerId = Assert.Single(reply.Messages).MsgId;
                Assert.True(answerId > lastAnswer);
                lastAnswer = answerId;
            }
        }));
        double perSecond = clients.Count * perSession / sw.Elapsed.TotalSeconds;
        output.WriteLine($"{clients.Count} sessions x {perSession} echo queries: {perSecond:F0} frames/s");

        long rows = await Sql.CountAsync(c.ConnectionString,
            "SELECT count(*) FROM grain_state WHERE serviceid = @s AND graintypestring = 'session' AND grainidn0 = @k",
            ("s", c.ServiceId), ("k", first.AuthKeyId));
        Assert.Equal(clients.Count, rows);
    }
}
