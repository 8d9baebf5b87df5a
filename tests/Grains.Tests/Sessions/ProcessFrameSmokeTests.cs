using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Grains.Tests.Sessions;

[Collection(PostgresCollection.Name)]
public sealed class ProcessFrameSmokeTests(PostgresFixture pg)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Wrong_salt_then_ping_gives_bad_server_salt_then_new_session_created_and_pong()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(c.Grains);
        ISessionGrain session = c.Grains.GetSessionGrain(authKeyId, TestData.NewSessionId());
        long m1 = TestData.ClientMsgId(c.Clock.GetUtcNow());

        FrameResult bad = await session.ProcessFrame(new IncomingFrame(0, m1, 0, new Ping(7).ToBytes(), 1)).WaitAsync(Bound);
        Assert.Equal(FrameDisposition.Continue, bad.Disposition);
        OutgoingMessage bss = Assert.Single(bad.Messages);
        var notice = Assert.IsType<BadServerSalt>(Read(bss.Body));
        Assert.Equal(new BadServerSalt(m1, 0, 48, salt), notice);

        long m2 = m1 + 4;
        FrameResult ok = await session.ProcessFrame(new IncomingFrame(salt, m2, 0, new Ping(8).ToBytes(), 1)).WaitAsync(Bound);
        Assert.Equal(salt, ok.Salt);
        Assert.Equal(2, ok.Messages.Length);
        var nsc = Assert.IsType<NewSessionCreated>(Read(ok.Messages[0].Body));
        Assert.Equal(m2, nsc.FirstMsgId);
        Assert.Equal(salt, nsc.ServerSalt);
        Assert.Equal(new Pong(m2, 8), Read(ok.Messages[1].Body));
        Assert.True(ok.Messages[1].MsgId > ok.Messages[0].MsgId);
    }

    [Fact]
    public async Task Unknown_auth_key_gives_AuthKeyUnknown()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (_, unknownKeyId) = TestData.NewKey();
        FrameResult r = await c.Grains.GetSessionGrain(unknownKeyId, 1).ProcessFrame(
            new IncomingFrame(1, TestData.ClientMsgId(c.Clock.GetUtcNow()), 0, new Ping(1).ToBytes(), 1)).WaitAsync(Bound);
        Assert.Equal(FrameDisposition.AuthKeyUnknown, r.Disposition);
        Assert.Empty(r.Messages);
    }

    private static TlObject Read(byte[] body)
    {
        Assert.True(ServiceSchema.TryRead(body, out TlObject? value, out TlError error), error.ToString());
        return value;
    }
}
