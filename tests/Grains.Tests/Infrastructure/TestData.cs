using System.Collections.Immutable;
using System.Security.Cryptography;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Messages;

namespace MtActors.Grains.Tests.Infrastructure;

public static class TestData
{
    /// <summary>Random 256-byte key material and its auth_key_id.</summary>
    public static (byte[] Key, long Id) NewKey()
    {
        byte[] key = RandomNumberGenerator.GetBytes(AuthKey.Length);
        return (key, AuthKey.ComputeId(key));
    }

    public static long NewSessionId() => BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));

    /// <summary>A client msg_id for a moment (divisible by 4), plus k steps of 4.</summary>
    public static long ClientMsgId(DateTimeOffset at, int k = 0) => (MsgIds.FromTime(at) & ~3L) + 4L * k;

    /// <summary>A frame of service messages (even seq_no 0: never out of seq_no order).</summary>
    public static ReceiveRequest Frame(long salt, params long[] msgIds) =>
        new(salt, [.. msgIds.Select(id => new InboundMessage(id, 0))]);

    /// <summary>Registers a fresh permanent key; returns its id and a current salt.</summary>
    public static async Task<(long AuthKeyId, long Salt)> RegisterKeyAsync(IGrainFactory grains, long? initialSalt = null)
    {
        var (key, id) = NewKey();
        var result = await grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, initialSalt));
        Assert.Equal(AuthKeyRegisterResult.Registered, result);
        // Any session of the key reports the key's current salt.
        FutureSaltsResult salts = await grains.GetSessionGrain(id, NewSessionId()).GetFutureSalts(1);
        return (id, salts.Salts[0].Salt);
    }

    public static ImmutableArray<OutboundKind> Kinds(params OutboundKind[] kinds) => [.. kinds];
}
