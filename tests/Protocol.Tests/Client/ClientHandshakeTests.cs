using System.Buffers.Binary;
using System.Security.Cryptography;
using MtActors.Protocol.Client.Handshake;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Tests.Handshake;

namespace MtActors.Protocol.Tests.Client;

/// <summary>The production client handshake against the server's <see cref="ServerHandshake"/>, in memory.</summary>
public sealed class ClientHandshakeTests
{
    private static readonly Lazy<RsaPublicKey> s_public = new(() => RsaPublicKey.FromPem(TestKeys.Key.ExportPublicKeyPem()));

    private static ClientHandshakeOptions Options(PqInnerDataKind kind = PqInnerDataKind.Dc, int dc = 2) =>
        new() { ServerKeys = [s_public.Value], DcId = dc, InnerData = kind, ExpiresIn = 3600 };

    /// <param name="retryOnShortKey">
    /// Off where a test counts retries: with it on, about one key in 256 has a zero top byte and costs one more round,
    /// which would make such counts random (the short-key retry has its own test below).
    /// </param>
    private static ServerHandshake NewServer(HandshakeRandom? random = null, bool retryOnShortKey = true) =>
        new(TestKeys.Set, new ServerHandshakeOptions { DcId = 2, RetryOnShortKey = retryOnShortKey }, random: random);

    /// <summary>Runs an exchange to its end; <paramref name="accept"/> decides AcceptKey / RejectKey for each agreed key.</summary>
    private static (ClientHandshakeStep Last, List<NewAuthKey> ServerKeys) Run(ClientHandshake client, ServerHandshake server,
        Func<NewAuthKey, bool>? accept = null)
    {
        var keys = new List<NewAuthKey>();
        byte[] toServer = client.Start();
        for (int i = 0; i < 32; i++)
        {
            byte[] toClient;
            switch (server.Handle(toServer))
            {
                case HandshakeOutcome.Reply reply:
                    toClient = reply.Body;
                    break;
                case HandshakeOutcome.KeyReady ready:
                    keys.Add(ready.Key);
                    toClient = accept is null || accept(ready.Key) ? server.AcceptKey() : server.RejectKey();
                    break;
                case HandshakeOutcome.Fail fail:
                    Assert.Fail($"server refused: {fail.Error}");
                    return default;
                default:
                    throw new InvalidOperationException();
            }
            var step = client.Handle(toClient);
            if (step is ClientHandshakeStep.Send send)
            {
                toServer = send.Body;
                continue;
            }
            return (step, keys);
        }
        throw new InvalidOperationException("no end");
    }

    [Theory]
    [InlineData(PqInnerDataKind.Plain)]
    [InlineData(PqInnerDataKind.Dc)]
    [InlineData(PqInnerDataKind.Temp)]
    [InlineData(PqInnerDataKind.TempDc)]
    public void Creates_the_same_key_as_the_server(PqInnerDataKind kind)
    {
        using var client = new ClientHandshake(Options(kind));
        var server = NewServer(retryOnShortKey: false);
        var (last, keys) = Run(client, server);
        var done = Assert.IsType<ClientHandshakeStep.Completed>(last).Key;
        var serverKey = Assert.Single(keys);
        Assert.Equal(serverKey.Key, done.Key.Key.ToArray());
        Assert.Equal(serverKey.AuthKeyId, done.AuthKeyId);
        Assert.Equal(serverKey.InitialSalt, done.InitialSalt);
        Assert.Equal(kind, serverKey.InnerDataKind);
        Assert.Equal(RsaScheme.RsaPad, serverKey.RsaScheme);
        Assert.Equal(kind is PqInnerDataKind.Temp or PqInnerDataKind.TempDc, done.IsTemporary);
        Assert.Equal(kind is PqInnerDataKind.Temp or PqInnerDataKind.TempDc, serverKey.IsTemporary);
        Assert.Equal(kind is PqInnerDataKind.Dc or PqInnerDataKind.TempDc ? 2 : null, serverKey.DcId);
        Assert.True(Math.Abs(done.ServerTimeOffset.TotalSeconds) <= 2);
        Assert.Equal(ClientHandshakePhase.Completed, client.Phase);
        Assert.Equal(HandshakePhase.Completed, server.Phase);
        Assert.Equal(0, done.Retries);
    }

    [Fact]
    public void Key_id_taken_dh_gen_retry_is_followed_with_the_aux_hash()
    {
        using var client = new ClientHandshake(Options());
        var server = NewServer(retryOnShortKey: false);
        int calls = 0;
        var (last, keys) = Run(client, server, _ => ++calls > 2);
        var done = Assert.IsType<ClientHandshakeStep.Completed>(last).Key;
        Assert.Equal(3, keys.Count);
        Assert.Equal(2, done.Retries);
        Assert.Equal(keys[^1].Key, done.Key.Key.ToArray());
        Assert.Equal(3, keys.Select(k => k.AuthKeyId).Distinct().Count());
    }

    [Fact]
    public void Gives_up_after_max_retries()
    {
        var options = Options();
        options.MaxRetries = 1;
        using var client = new ClientHandshake(options);
        var server = NewServer();
        var (last, _) = Run(client, server, _ => false);
        Assert.Equal(ClientHandshakeError.TooManyRetries, Assert.IsType<ClientHandshakeStep.Failed>(last).Error);
        Assert.Equal(ClientHandshakePhase.Failed, client.Phase);
    }

    [Fact]
    public void Dh_gen_fail_is_reported()
    {
        var server = new ServerHandshake(TestKeys.Set, new ServerHandshakeOptions { DcId = 2, MaxRetries = 0 });
        using var client = new ClientHandshake(Options());
        var (last, _) = Run(client, server, _ => false);
        Assert.Equal(ClientHandshakeError.DhGenFail, Assert.IsType<ClientHandshakeStep.Failed>(last).Error);
    }

    [Fact]
    public void Short_key_retry_from_our_server_is_accepted_and_the_exchange_completes()
    {
        // Fix the server's secret a, so g_a is known, and hand the client a b whose key g_a^b has a zero top byte.
        var a = SHA512.HashData("fixed a"u8).Concat(SHA512.HashData("more a"u8)).Concat(SHA512.HashData("a 3"u8)).Concat(SHA512.HashData("a 4"u8)).ToArray();
        var gA = new byte[256];
        DhGroup.Telegram.ModPow([3], a, gA, secretExponent: true);
        Assert.True(DhGroup.Telegram.IsInSafeRange(gA));
        var server = NewServer(d =>
        {
            if (d.Length == 256) a.CopyTo(d);
            else RandomNumberGenerator.Fill(d);
        });
        int bDraws = 0;
        using var client = new ClientHandshake(Options(), random: d =>
        {
            if (d.Length != 256 || bDraws++ > 0)
            {
                RandomNumberGenerator.Fill(d);
                return;
            }
            var key = new byte[256];
            for (int i = 0; i < 20000; i++)
            {
                RandomNumberGenerator.Fill(d);
                DhGroup.Telegram.ModPow(gA, d, key, secretExponent: true);
                if (key[0] == 0) return;
            }
            Assert.Fail("no short key in 20000 draws");
        });
        var (last, keys) = Run(client, server);
        var done = Assert.IsType<ClientHandshakeStep.Completed>(last).Key;
        Assert.True(done.Retries >= 1);
        Assert.NotEqual(0, done.Key.Key[0]);
        Assert.Equal(keys[^1].Key, done.Key.Key.ToArray());
    }

    [Fact]
    public void Unknown_fingerprint_fails_with_a_clear_message()
    {
        using var other = RsaServerKey.Generate();
        using var otherPublic = RsaPublicKey.FromPem(other.ExportPublicKeyPem());
        using var client = new ClientHandshake(new ClientHandshakeOptions { ServerKeys = [otherPublic] });
        var server = NewServer();
        var reply = Assert.IsType<HandshakeOutcome.Reply>(server.Handle(client.Start())).Body;
        var failed = Assert.IsType<ClientHandshakeStep.Failed>(client.Handle(reply));
        Assert.Equal(ClientHandshakeError.NoKnownFingerprint, failed.Error);
        Assert.Contains($"{(ulong)s_public.Value.Fingerprint:x16}", failed.Message);
    }

    [Fact]
    public void Tampered_answers_are_refused()
    {
        // Another nonce in resPQ.
        using (var client = new ClientHandshake(Options()))
        {
            var server = NewServer();
            var reply = Assert.IsType<HandshakeOutcome.Reply>(server.Handle(client.Start())).Body;
            reply[4] ^= 1;
            Assert.Equal(ClientHandshakeError.NonceMismatch, Assert.IsType<ClientHandshakeStep.Failed>(client.Handle(reply)).Error);
            Assert.Equal(ClientHandshakeError.Finished, Assert.IsType<ClientHandshakeStep.Failed>(client.Handle(reply)).Error);
        }
        // A corrupted encrypted_answer.
        using (var client = new ClientHandshake(Options()))
        {
            var server = NewServer();
            var resPq = Assert.IsType<HandshakeOutcome.Reply>(server.Handle(client.Start())).Body;
            var req = Assert.IsType<ClientHandshakeStep.Send>(client.Handle(resPq)).Body;
            var dh = Assert.IsType<HandshakeOutcome.Reply>(server.Handle(req)).Body;
            dh[^20] ^= 0x40;
            Assert.Equal(ClientHandshakeError.BadAnswer, Assert.IsType<ClientHandshakeStep.Failed>(client.Handle(dh)).Error);
        }
        // dh_gen_ok with a wrong new_nonce_hash1, and a message of the wrong type.
        using (var client = new ClientHandshake(Options()))
        {
            var server = NewServer();
            var resPq = Assert.IsType<HandshakeOutcome.Reply>(server.Handle(client.Start())).Body;
            var req = Assert.IsType<ClientHandshakeStep.Send>(client.Handle(resPq)).Body;
            var dh = Assert.IsType<HandshakeOutcome.Reply>(server.Handle(req)).Body;
            var set = Assert.IsType<ClientHandshakeStep.Send>(client.Handle(dh)).Body;
            byte[] ok;
            do
            {
                var outcome = server.Handle(set);
                if (outcome is HandshakeOutcome.KeyReady)
                {
                    ok = server.AcceptKey();
                    break;
                }
                // short key: the server asked for a retry; follow it
                set = Assert.IsType<ClientHandshakeStep.Send>(client.Handle(Assert.IsType<HandshakeOutcome.Reply>(outcome).Body)).Body;
            } while (true);
            var bad = (byte[])ok.Clone();
            bad[^1] ^= 1;
            var twin = new ClientHandshake(Options());
            Assert.Equal(ClientHandshakeError.Malformed, Assert.IsType<ClientHandshakeStep.Failed>(Start(twin).Handle([1, 2])).Error);
            Assert.Equal(ClientHandshakeError.UnexpectedMessage, Assert.IsType<ClientHandshakeStep.Failed>(Start(new ClientHandshake(Options())).Handle(ok)).Error);
            Assert.Equal(ClientHandshakeError.NewNonceHashMismatch, Assert.IsType<ClientHandshakeStep.Failed>(client.Handle(bad)).Error);
        }
    }

    private static ClientHandshake Start(ClientHandshake c)
    {
        c.Start();
        return c;
    }

    [Fact]
    public void Garbage_never_throws()
    {
        var rng = new Random(7);
        for (int i = 0; i < 300; i++)
        {
            using var client = new ClientHandshake(Options());
            client.Start();
            var junk = new byte[rng.Next(0, 300)];
            rng.NextBytes(junk);
            if (junk.Length >= 4 && i % 3 == 0) BinaryPrimitives.WriteUInt32LittleEndian(junk, HandshakeIds.ResPq);
            Assert.IsType<ClientHandshakeStep.Failed>(client.Handle(junk));
        }
    }

    [Fact]
    public void Rsa_pad_round_trips_through_the_server_key()
    {
        var data = RandomNumberGenerator.GetBytes(120);
        for (int i = 0; i < 8; i++)
        {
            var c = ClientHandshake.RsaPadEncrypt(data, s_public.Value, RandomNumberGenerator.Fill);
            var m = new byte[256];
            Assert.True(TestKeys.Key.TryDecryptRaw(c, m));
            // Undo RSA_PAD independently: temp_key = m[0..32) ^ SHA256(m[32..]); IGE-decrypt; reverse; check SHA256.
            var aes = m.AsSpan(32).ToArray();
            var tempKey = SHA256.HashData(aes);
            for (int j = 0; j < 32; j++) tempKey[j] ^= m[j];
            var plain = new byte[224];
            AesIge.Decrypt(tempKey, new byte[32], aes, plain);
            var padded = plain.AsSpan(0, 192).ToArray();
            Array.Reverse(padded);
            Assert.Equal(plain.AsSpan(192).ToArray(), SHA256.HashData(tempKey.Concat(padded).ToArray()));
            Assert.Equal(data, padded.AsSpan(0, data.Length).ToArray());
        }
    }

    [Fact]
    public void Public_key_from_pem_matches_the_server_fingerprint_and_rejects_bad_input()
    {
        Assert.Equal(TestKeys.Key.Fingerprint, s_public.Value.Fingerprint);
        Assert.Equal(TestKeys.Key.Modulus, s_public.Value.Modulus);
        using var fromPrivate = RsaPublicKey.FromPem(TestKeys.Key.ExportPrivateKeyPem());
        Assert.Equal(TestKeys.Key.Fingerprint, fromPrivate.Fingerprint);
        Assert.Throws<ArgumentException>(() => RsaPublicKey.FromPem("not a key"));
        using var small = RSA.Create(1024);
        Assert.Throws<ArgumentException>(() => RsaPublicKey.FromPem(small.ExportRSAPublicKeyPem()));
    }

    [Theory]
    [InlineData(0x17ED48941A08F981UL, 0x494C553BUL, 0x53911073UL)]
    [InlineData(1468428376148703121UL, 1008949199UL, 1455403679UL)]
    [InlineData(15UL, 3UL, 5UL)]
    [InlineData(2UL * 1000003UL, 2UL, 1000003UL)]
    public void Factors_known_pq(ulong pq, ulong p, ulong q)
    {
        Assert.True(PqFactorizer.TryFactor(pq, out var fp, out var fq));
        Assert.Equal(p, fp);
        Assert.Equal(q, fq);
    }

    [Fact]
    public void Factors_server_generated_pq_and_refuses_non_products()
    {
        for (int i = 0; i < 200; i++)
        {
            var (p, q) = PqGenerator.Generate(RandomNumberGenerator.Fill);
            Assert.True(PqFactorizer.TryFactor((ulong)p * q, out var fp, out var fq));
            Assert.Equal(Math.Min(p, q), fp);
            Assert.Equal(Math.Max(p, q), fq);
        }
        Assert.False(PqFactorizer.TryFactor(0, out _, out _));
        Assert.False(PqFactorizer.TryFactor(1, out _, out _));
        Assert.False(PqFactorizer.TryFactor(2, out _, out _));
        Assert.False(PqFactorizer.TryFactor(1000000007UL, out _, out _));               // prime
        Assert.False(PqFactorizer.TryFactor(ulong.MaxValue, out _, out _));            // above 2^63 - 1
        Assert.Equal([0x17, 0xED, 0x48, 0x94, 0x1A, 0x08, 0xF9, 0x81], PqFactorizer.ToBigEndian(0x17ED48941A08F981UL));
        Assert.Equal([0x01], PqFactorizer.ToBigEndian(1));
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentException>(() => new ClientHandshake(new ClientHandshakeOptions()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClientHandshake(new ClientHandshakeOptions { ServerKeys = [s_public.Value], DcId = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ClientHandshake(new ClientHandshakeOptions { ServerKeys = [s_public.Value], InnerData = PqInnerDataKind.Temp, ExpiresIn = 0 }));
    }

    [Fact]
    public void Initial_salt_and_ids_follow_the_spec()
    {
        using var client = new ClientHandshake(Options());
        var (last, keys) = Run(client, NewServer());
        var done = Assert.IsType<ClientHandshakeStep.Completed>(last).Key;
        Assert.Equal(AuthKey.ComputeId(done.Key.Key), done.AuthKeyId);
        Assert.Equal(keys[0].InitialSalt, done.InitialSalt);
        Assert.NotEqual(0, done.InitialSalt);
    }
}
