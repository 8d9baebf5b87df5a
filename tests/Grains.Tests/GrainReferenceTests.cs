using MtActors.Grains.Tests.Infrastructure;

namespace MtActors.Grains.Tests;

/// <summary>SessionKeys' references (built from a remembered grain type after the first) are the usual ones.</summary>
[Collection(PostgresCollection.Name)]
public sealed class GrainReferenceTests(PostgresFixture pg)
{
    [Fact]
    public async Task Session_and_key_references_equal_the_factory_s_own_and_reach_the_grain()
    {
        SharedCluster c = await pg.GetSharedClusterAsync();
        var (authKeyId, _) = await TestData.RegisterKeyAsync(c.Grains);
        for (int i = 0; i < 3; i++) // the first call may take the slow path; later ones the remembered shape
        {
            long sessionId = TestData.NewSessionId();
            ISessionGrain ours = c.Grains.GetSessionGrain(authKeyId, sessionId);
            ISessionGrain theirs = c.Grains.GetGrain<ISessionGrain>(SessionKeys.ToGuid(authKeyId, sessionId));
            Assert.Equal(theirs.GetGrainId(), ours.GetGrainId());
            Assert.Equal(((GrainReference)(object)theirs).InterfaceType, ((GrainReference)(object)ours).InterfaceType);
            Assert.Equal(theirs, ours);
            Assert.Null(await ours.GetInfo()); // a working reference: the session does not exist

            IAuthKeyGrain key = c.Grains.GetAuthKeyGrain(authKeyId);
            Assert.Equal(c.Grains.GetGrain<IAuthKeyGrain>(authKeyId).GetGrainId(), key.GetGrainId());
        }
        Assert.NotEqual(c.Grains.GetSessionGrain(authKeyId, 1).GetGrainId(), c.Grains.GetSessionGrain(authKeyId, 2).GetGrainId());
        Assert.NotEqual(c.Grains.GetAuthKeyGrain(1).GetGrainId(), c.Grains.GetAuthKeyGrain(2).GetGrainId());
        Assert.Equal((authKeyId, 77L), SessionKeys.FromGuid(c.Grains.GetSessionGrain(authKeyId, 77).GetPrimaryKey()));
    }
}
