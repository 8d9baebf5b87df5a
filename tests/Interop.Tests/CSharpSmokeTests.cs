using MtActors.Grains;
using MtActors.Interop.Tests.CSharpClient;
using MtActors.Interop.Tests.Infrastructure;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Transport;

namespace MtActors.Interop.Tests;

/// <summary>
/// End to end without Node.js: a C# client (the handshake tests' independent client plus MessageCipher) creates an
/// auth key through the gateway, then pings in an encrypted session, starting with salt 0 like real clients.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class CSharpSmokeTests(ServerFixture fixture)
{
    private MtActorsTestServer Server => fixture.Server;

    [Theory]
    [InlineData(TransportKind.Intermediate, false)]
    [InlineData(TransportKind.Abridged, false)]
    [InlineData(TransportKind.PaddedIntermediate, false)]
    [InlineData(TransportKind.Full, false)]
    [InlineData(TransportKind.Intermediate, true)]
    public async Task New_key_then_encrypted_ping(TransportKind transport, bool obfuscated)
    {
        await using var client = await MtProtoTestClient.ConnectAsync(Server.Port, transport, obfuscated);
        var key = await client.CreateKeyAsync(Server.PublicKeyPem);

        var info = await Server.Grains.GetAuthKeyGrain(key.Id).Get();
        Assert.NotNull(info);
        Assert.Equal(key.Key.ToArray(), info.Key);

        client.Salt = 0; // as GramJS: the first message goes out with salt 0 and must get bad_server_salt
        var (pong, seen) = await client.PingAsync(77);
        Assert.Equal(77, pong.PingId);
        Assert.Contains(seen, o => o is BadServerSalt { ErrorCode: 48 });
        Assert.NotEqual(0, client.Salt);
    }

    [Fact]
    public async Task Pre_shared_key_then_encrypted_ping()
    {
        var key = await Server.CreatePreSharedKeyAsync();
        await using var client = await MtProtoTestClient.ConnectAsync(Server.Port, TransportKind.Intermediate);
        client.UseKey(key);
        var (pong, _) = await client.PingAsync(5);
        Assert.Equal(5, pong.PingId);
    }
}
