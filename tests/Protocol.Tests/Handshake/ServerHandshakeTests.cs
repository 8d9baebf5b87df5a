using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Numerics;
using MtActors.Protocol.Handshake;

namespace MtActors.Protocol.Tests.Handshake;

internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>End-to-end handshakes between the server state machine and the independent <see cref="TestClient"/>.</summary>
public sealed class ServerHandshakeTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static ServerHandshake NewServer(ServerHandshakeOptions? options = null, TimeProvider? time = null) =>
        new(TestKeys.Set, options ?? new ServerHandshakeOptions { DcId = 2 }, time ?? new ManualTime(T0));

    private static TestClient NewClient(int seed) => new(TestKeys.Key.ExportPublicKeyPem(), seed);

    private static byte[] Reply(HandshakeOutcome outcome) => Assert.IsType<HandshakeOutcome.Reply>(outcome).Body;

    private static void AssertFail(HandshakeOutcome outcome, HandshakeError error, int code = -404)
    {
        var fail = Assert.IsType<HandshakeOutcome.Fail>(outcome);
        Assert.Equal(error, fail.Error);
        Assert.Equal(code, fail.TransportError);
    }

    private static void ToServerDhParams(ServerHandshake server, TestClient client, uint kind = TestClient.PqInnerDc, bool legacy = false,
        int dc = 2, int expiresIn = 86400)
    {
        client.ReadResPq(Reply(server.Handle(client.ReqPq())));
        var data = client.InnerData(kind, dc, expiresIn);
        var encrypted = legacy ? client.RsaSha1(data) : client.RsaPad(data);
        client.ReadServerDhParamsOk(Reply(server.Handle(client.ReqDhParams(encrypted))));
    }

    /// <summary>Picks a client secret b whose key g_a^b is not "short" (first byte non-zero).</summary>
    private static void NewNormalB(TestClient client)
    {
        do
        {
            client.NewB();
        } while (client.ComputeAuthKey()[0] == 0);
    }

    private static HandshakeOutcome.KeyReady SendClientDh(ServerHandshake server, TestClient client)
    {
        NewNormalB(client);
        return Assert.IsType<HandshakeOutcome.KeyReady>(server.Handle(client.SetClientDhParams()));
    }

    public static TheoryData<uint, bool> Variants()
    {
        var data = new TheoryData<uint, bool>();
        foreach (var kind in new[] { TestClient.PqInner, TestClient.PqInnerDc, TestClient.PqInnerTemp, TestClient.PqInnerTempDc })
        {
            data.Add(kind, false);
            data.Add(kind, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Full_handshake_for_every_inner_data_variant_and_both_rsa_schemes(uint kind, bool legacy)
    {
        var time = new ManualTime(T0);
        var server = NewServer(time: time);
        var client = NewClient((int)kind + (legacy ? 1 : 0));
        Assert.Equal(HandshakePhase.None, server.Phase);

        client.ReadResPq(Reply(server.Handle(client.ReqPq())));
        Assert.Equal(HandshakePhase.AwaitingDhParams, server.Phase);
        Assert.Equal(T0, server.StartedAt);
        Assert.Equal(TestKeys.Set.Fingerprints.ToArray(), client.ServerFingerprints);
        Assert.True(client.P < client.Q);

        time.Now = T0.AddSeconds(2);
        var data = client.InnerData(kind, dc: 2, expiresIn: 3600);
        var encrypted = legacy ? client.RsaSha1(data) : client.RsaPad(data);
        client.ReadServerDhParamsOk(Reply(server.Handle(client.ReqDhParams(encrypted))));
        Assert.Equal((int)T0.AddSeconds(2).ToUnixTimeSeconds(), client.ServerTime);
        Assert.Equal(HandshakePhase.AwaitingClientDh, server.Phase);
        Assert.True(server.InProgress);

        var ready = SendClientDh(server, client);
        Assert.Equal(HandshakePhase.AwaitingKeyDecision, server.Phase);
        var key = ready.Key;
        Assert.Equal(client.AuthKey, key.Key);
        Assert.Equal(client.AuthKeyId, key.AuthKeyId);
        Assert.Equal(client.AuthKeyId, key.ToAuthKey().Id);
        Assert.Equal(client.InitialSalt, key.InitialSalt);
        bool temp = kind is TestClient.PqInnerTemp or TestClient.PqInnerTempDc;
        Assert.Equal(temp, key.IsTemporary);
        Assert.Equal(temp ? 3600 : 0, key.ExpiresIn);
        Assert.Equal(temp ? T0.AddSeconds(2 + 3600) : null, key.ExpiresAt);
        Assert.Equal(kind is TestClient.PqInnerDc or TestClient.PqInnerTempDc ? 2 : null, key.DcId);
        Assert.Equal(legacy ? RsaScheme.Sha1 : RsaScheme.RsaPad, key.RsaScheme);
        Assert.True(ready.CanRetry);
        Assert.DoesNotContain(Convert.ToHexString(key.Key), key.ToString());

        var ok = server.AcceptKey();
        Assert.Equal(ready.OkReply, ok);
        Assert.Equal(TestClient.DhGenOkId, client.ReadDhGen(ok));
        Assert.Equal(HandshakePhase.Completed, server.Phase);
        Assert.False(server.InProgress);
        Assert.Equal(1, server.CompletedKeys);
        Assert.Equal(3, server.MessageCount);
    }

    [Fact]
    public void Exact_repeats_get_the_stored_answers()
    {
        var server = NewServer();
        var client = NewClient(1);
        var reqPq = client.ReqPq();
        var resPq = Reply(server.Handle(reqPq));
        Assert.Equal(resPq, Reply(server.Handle(reqPq)));
        client.ReadResPq(resPq);

        // A different req_pq with the same nonce before req_DH_params is answered again, same server_nonce.
        Assert.Equal(resPq, Reply(server.Handle(client.ReqPq(multi: false))));

        var reqDh = client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerDc)));
        var dhOk = Reply(server.Handle(reqDh));
        Assert.Equal(dhOk, Reply(server.Handle(reqDh)));
        // After req_DH_params, the first req_pq is still an exact repeat...
        Assert.Equal(resPq, Reply(server.Handle(reqPq)));
        client.ReadServerDhParamsOk(dhOk);

        NewNormalB(client);
        var set = client.SetClientDhParams();
        Assert.IsType<HandshakeOutcome.KeyReady>(server.Handle(set));
        var ok = server.AcceptKey();
        Assert.Equal(ok, Reply(server.Handle(set)));
        Assert.Equal(dhOk, Reply(server.Handle(reqDh)));
        Assert.Equal(TestClient.DhGenOkId, client.ReadDhGen(ok));
        Assert.Equal(HandshakePhase.Completed, server.Phase);
    }

    [Fact]
    public void Req_pq_with_same_nonce_after_req_DH_params_is_refused()
    {
        var server = NewServer();
        var client = NewClient(2);
        ToServerDhParams(server, client);
        // req_pq (not multi) was never sent, so it is not an exact repeat.
        AssertFail(server.Handle(client.ReqPq(multi: false)), HandshakeError.UnexpectedRequest);
        AssertFail(server.Handle(client.SetClientDhParams(client.ClientInner(BigInteger.ModPow(3, client.NewB(), TestClient.KnownPrime)))),
            HandshakeError.HandshakeFailed);
    }

    [Fact]
    public void Key_id_taken_gives_dh_gen_retry_and_the_client_retries_with_the_aux_hash()
    {
        var server = NewServer();
        var client = NewClient(3);
        ToServerDhParams(server, client);
        var first = SendClientDh(server, client);
        var retry = server.RejectKey();
        Assert.Equal(first.RetryReply, retry);
        Assert.Equal(TestClient.DhGenRetryId, client.ReadDhGen(retry));
        Assert.Equal(first.Key.AuxHash, client.RetryId);
        Assert.Equal(HandshakePhase.AwaitingClientDh, server.Phase);

        var second = SendClientDh(server, client);
        Assert.NotEqual(first.Key.AuthKeyId, second.Key.AuthKeyId);
        Assert.Equal(client.AuthKey, second.Key.Key);
        Assert.Equal(TestClient.DhGenOkId, client.ReadDhGen(server.AcceptKey()));
        Assert.Equal(HandshakePhase.Completed, server.Phase);
    }

    [Fact]
    public void Wrong_retry_id_is_refused()
    {
        var server = NewServer();
        var client = NewClient(4);
        ToServerDhParams(server, client);
        SendClientDh(server, client);
        client.ReadDhGen(server.RejectKey());
        client.RetryId = 0; // must be the aux hash of the rejected key
        NewNormalB(client);
        AssertFail(server.Handle(client.SetClientDhParams()), HandshakeError.WrongRetryId);

        // A non-zero retry_id on a first attempt is refused too.
        var server2 = NewServer();
        var client2 = NewClient(5);
        ToServerDhParams(server2, client2);
        client2.RetryId = 12345;
        NewNormalB(client2);
        AssertFail(server2.Handle(client2.SetClientDhParams()), HandshakeError.WrongRetryId);
    }

    [Fact]
    public void Retries_are_limited_and_end_in_dh_gen_fail()
    {
        var server = NewServer(new ServerHandshakeOptions { DcId = 2, MaxRetries = 1 });
        var client = NewClient(6);
        ToServerDhParams(server, client);
        var r1 = SendClientDh(server, client);
        Assert.True(r1.CanRetry);
        Assert.Equal(TestClient.DhGenRetryId, client.ReadDhGen(server.RejectKey()));
        var r2 = SendClientDh(server, client);
        Assert.False(r2.CanRetry);
        var fail = server.RejectKey();
        Assert.Equal(r2.RetryReply, fail);
        Assert.Equal(TestClient.DhGenFailId, client.ReadDhGen(fail));
        Assert.Equal(HandshakePhase.Failed, server.Phase);
        NewNormalB(client);
        AssertFail(server.Handle(client.SetClientDhParams()), HandshakeError.HandshakeFailed);
    }

    [Fact]
    public void Short_key_gets_dh_gen_retry_by_default()
    {
        var server = NewServer();
        var client = NewClient(7);
        ToServerDhParams(server, client);
        FindShortKeyB(client);
        var set = client.SetClientDhParams();
        var retry = Reply(server.Handle(set));
        Assert.Equal(TestClient.DhGenRetryId, BinaryPrimitives.ReadUInt32LittleEndian(retry));
        Assert.Equal(retry, Reply(server.Handle(set))); // exact repeat
        client.RetryId = BinaryPrimitives.ReadInt64LittleEndian(SHA1.HashData(client.ComputeAuthKey()));
        var ready = SendClientDh(server, client);
        Assert.NotEqual(0, ready.Key.Key[0]);
        Assert.Equal(TestClient.DhGenOkId, client.ReadDhGen(server.AcceptKey()));
    }

    [Fact]
    public void Short_key_is_accepted_when_the_option_is_off()
    {
        var server = NewServer(new ServerHandshakeOptions { DcId = 2, RetryOnShortKey = false });
        var client = NewClient(8);
        ToServerDhParams(server, client);
        FindShortKeyB(client);
        var ready = Assert.IsType<HandshakeOutcome.KeyReady>(server.Handle(client.SetClientDhParams()));
        Assert.Equal(0, ready.Key.Key[0]);
        Assert.Equal(256, ready.Key.Key.Length);
        Assert.Equal(client.ComputeAuthKey(), ready.Key.Key);
        Assert.Equal(TestClient.DhGenOkId, client.ReadDhGen(server.AcceptKey()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Short_key_retry_is_hashed_with_the_stripped_key_and_either_retry_id_is_accepted(bool strippedRetryId)
    {
        // mtcute holds a key with a zero top byte as 255 bytes: it checks new_nonce_hash2 and sends retry_id with the
        // aux hash of that stripped key. A client holding the 256-byte key sends the full key's aux hash.
        var server = NewServer();
        var client = NewClient(strippedRetryId ? 21 : 22);
        ToServerDhParams(server, client);
        FindShortKeyB(client);
        var key = client.ComputeAuthKey();
        Assert.Equal(0, key[0]);
        var strippedSha = SHA1.HashData(key.SkipWhile(b => b == 0).ToArray());
        var fullSha = SHA1.HashData(key);
        Assert.NotEqual(strippedSha, fullSha);

        var retry = Reply(server.Handle(client.SetClientDhParams()));
        Assert.Equal(TestClient.DhGenRetryId, BinaryPrimitives.ReadUInt32LittleEndian(retry));
        Assert.Equal(client.Nonce, retry.AsSpan(4, 16).ToArray());
        var hash2 = retry.AsSpan(36, 16).ToArray();
        byte[] Expected(byte[] sha) => SHA1.HashData(client.NewNonce.Concat(new byte[] { 2 }).Concat(sha.Take(8)).ToArray()).Skip(4).ToArray();
        Assert.Equal(Expected(strippedSha), hash2);
        Assert.NotEqual(Expected(fullSha), hash2);

        client.RetryId = BinaryPrimitives.ReadInt64LittleEndian(strippedRetryId ? strippedSha : fullSha);
        var ready = SendClientDh(server, client);
        Assert.NotEqual(0, ready.Key.Key[0]);
        Assert.Equal(TestClient.DhGenOkId, client.ReadDhGen(server.AcceptKey()));
        Assert.Equal(HandshakePhase.Completed, server.Phase);
    }

    private static void FindShortKeyB(TestClient client)
    {
        var ga = TestClient.ToBe(client.GA, 256);
        var key = new byte[256];
        for (int i = 0; i < 20000; i++)
        {
            var b = client.NewB();
            DhGroup.Telegram.ModPow(ga, TestClient.ToBe(b, 256), key, secretExponent: true);
            if (key[0] == 0) return;
        }
        Assert.Fail("no short key found in 20000 draws");
    }

    [Fact]
    public void Dc_mismatch_gets_444_and_media_dc_is_accepted()
    {
        var server = NewServer();
        var client = NewClient(9);
        client.ReadResPq(Reply(server.Handle(client.ReqPq())));
        AssertFail(server.Handle(client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerDc, dc: 10002)))),
            HandshakeError.DcMismatch, -444);
        // and the handshake stays failed
        AssertFail(server.Handle(client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerDc, dc: 2)))), HandshakeError.HandshakeFailed);

        var temp = NewClient(10);
        temp.ReadResPq(Reply(server.Handle(temp.ReqPq())));
        AssertFail(server.Handle(temp.ReqDhParams(temp.RsaPad(temp.InnerData(TestClient.PqInnerTempDc, dc: 3)))), HandshakeError.DcMismatch, -444);

        var media = NewClient(11);
        ToServerDhParams(server, media, dc: -2);
        Assert.Equal(-2, SendClientDh(server, media).Key.DcId);
        server.AcceptKey();

        var lax = NewServer(new ServerHandshakeOptions { DcId = 2, EnforceDcId = false });
        var other = NewClient(12);
        ToServerDhParams(lax, other, dc: 10004);
        Assert.Equal(10004, SendClientDh(lax, other).Key.DcId);
    }

    [Fact]
    public void Temporary_key_lifetime_is_checked()
    {
        var server = NewServer(new ServerHandshakeOptions { DcId = 2, MaxTemporaryKeyLifetime = 7200 });
        foreach (int bad in new[] { 0, -5, 7201 })
        {
            var client = NewClient(100 + bad);
            client.ReadResPq(Reply(server.Handle(client.ReqPq())));
            AssertFail(server.Handle(client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerTemp, expiresIn: bad)))),
                HandshakeError.BadExpiresIn);
        }
    }

    // ---- every invalid req_DH_params ----

    public enum BadReqDh
    {
        UnknownNonce, WrongServerNonce, WrongP, WrongQ, SwappedPq, UnknownFingerprint, EmptyCiphertext, CiphertextTooLong,
        CiphertextAboveModulus, RsaPadHashBroken, Sha1HashBroken, GarbagePlaintext, InnerNonce, InnerServerNonce, InnerPq, InnerP,
        InnerQ, OtherKeyFingerprint, TrailingBytes, Truncated,
    }

    [Theory]
    [InlineData(BadReqDh.UnknownNonce, HandshakeError.UnknownNonce)]
    [InlineData(BadReqDh.WrongServerNonce, HandshakeError.WrongServerNonce)]
    [InlineData(BadReqDh.WrongP, HandshakeError.WrongPq)]
    [InlineData(BadReqDh.WrongQ, HandshakeError.WrongPq)]
    [InlineData(BadReqDh.SwappedPq, HandshakeError.WrongPq)]
    [InlineData(BadReqDh.UnknownFingerprint, HandshakeError.UnknownFingerprint)]
    [InlineData(BadReqDh.EmptyCiphertext, HandshakeError.BadRsaCiphertext)]
    [InlineData(BadReqDh.CiphertextTooLong, HandshakeError.BadRsaCiphertext)]
    [InlineData(BadReqDh.CiphertextAboveModulus, HandshakeError.BadRsaCiphertext)]
    [InlineData(BadReqDh.RsaPadHashBroken, HandshakeError.BadRsaPadding)]
    [InlineData(BadReqDh.Sha1HashBroken, HandshakeError.BadRsaPadding)]
    [InlineData(BadReqDh.GarbagePlaintext, HandshakeError.BadRsaPadding)]
    [InlineData(BadReqDh.InnerNonce, HandshakeError.InnerNonceMismatch)]
    [InlineData(BadReqDh.InnerServerNonce, HandshakeError.InnerNonceMismatch)]
    [InlineData(BadReqDh.InnerPq, HandshakeError.InnerPqMismatch)]
    [InlineData(BadReqDh.InnerP, HandshakeError.InnerPqMismatch)]
    [InlineData(BadReqDh.InnerQ, HandshakeError.InnerPqMismatch)]
    [InlineData(BadReqDh.OtherKeyFingerprint, HandshakeError.BadRsaPadding)]
    [InlineData(BadReqDh.TrailingBytes, HandshakeError.Malformed)]
    [InlineData(BadReqDh.Truncated, HandshakeError.Malformed)]
    public void Invalid_req_DH_params_gets_404_and_the_handshake_stays_failed(BadReqDh kind, HandshakeError expected)
    {
        var server = NewServer();
        var client = NewClient(200 + (int)kind);
        client.ReadResPq(Reply(server.Handle(client.ReqPq())));
        var inner = client.InnerData(TestClient.PqInnerDc);
        var good = client.RsaPad(inner);
        byte[] body = kind switch
        {
            BadReqDh.UnknownNonce => client.ReqDhParams(good, nonce: client.Bytes(16)),
            BadReqDh.WrongServerNonce => client.ReqDhParams(good, serverNonce: client.Bytes(16)),
            BadReqDh.WrongP => client.ReqDhParams(good, p: client.P + 2),
            BadReqDh.WrongQ => client.ReqDhParams(good, q: client.Q - 2),
            BadReqDh.SwappedPq => client.ReqDhParams(good, p: client.Q, q: client.P),
            BadReqDh.UnknownFingerprint => client.ReqDhParams(good, fingerprint: client.Fingerprint ^ 1),
            BadReqDh.EmptyCiphertext => client.ReqDhParams([]),
            BadReqDh.CiphertextTooLong => client.ReqDhParams([1, .. good]),
            BadReqDh.CiphertextAboveModulus => client.ReqDhParams(client.ModulusBytes),
            BadReqDh.RsaPadHashBroken => client.ReqDhParams(client.RsaPad(inner, dwh => dwh[200] ^= 1)),
            BadReqDh.Sha1HashBroken => client.ReqDhParams(client.RsaSha1(inner, corruptHash: true)),
            BadReqDh.GarbagePlaintext => client.ReqDhParams(client.RsaRaw(client.Bytes(255).Prepend((byte)0).ToArray())),
            BadReqDh.InnerNonce => client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerDc, nonce: client.Bytes(16)))),
            BadReqDh.InnerServerNonce => client.ReqDhParams(client.RsaSha1(client.InnerData(TestClient.PqInnerDc, serverNonce: client.Bytes(16)))),
            BadReqDh.InnerPq => client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerDc, pq: TestClient.MinBe(client.P * client.Q + 2)))),
            BadReqDh.InnerP => client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerDc, p: 3))),
            BadReqDh.InnerQ => client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerDc, q: client.P))),
            BadReqDh.OtherKeyFingerprint => client.ReqDhParams(good, fingerprint: TestKeys.Second.Fingerprint),
            BadReqDh.TrailingBytes => [.. client.ReqDhParams(good), 0, 0, 0, 0],
            BadReqDh.Truncated => client.ReqDhParams(good)[..^8],
            _ => throw new InvalidOperationException(),
        };
        var outcome = server.Handle(body);
        if (kind == BadReqDh.OtherKeyFingerprint && outcome is HandshakeOutcome.Fail { Error: HandshakeError.BadRsaCiphertext })
        {
            expected = HandshakeError.BadRsaCiphertext; // the ciphertext happened to be >= the other key's modulus
        }
        AssertFail(outcome, expected);

        // Whatever follows for this handshake keeps failing (unless the request was never attributed to it).
        var followUp = server.Handle(client.ReqDhParams(good));
        if (kind is BadReqDh.UnknownNonce or BadReqDh.TrailingBytes or BadReqDh.Truncated)
        {
            client.ReadServerDhParamsOk(Reply(followUp));
        }
        else
        {
            AssertFail(followUp, HandshakeError.HandshakeFailed);
            Assert.Equal(HandshakePhase.Failed, server.Phase);
        }
    }

    // ---- every invalid set_client_DH_params ----

    public enum BadSetClient
    {
        GbOne, GbPMinus1, GbLowBound, GbHighBound, GbTooLong, GbZero, BadSha1, WrongTmpKey, NotBlockMultiple, TooShort, TooLong,
        InnerNonce, WrongServerNonce, UnknownNonce, PaddingTooLong, TrailingBytes,
    }

    [Theory]
    [InlineData(BadSetClient.GbOne, HandshakeError.GbOutOfRange)]
    [InlineData(BadSetClient.GbPMinus1, HandshakeError.GbOutOfRange)]
    [InlineData(BadSetClient.GbLowBound, HandshakeError.GbOutOfRange)]
    [InlineData(BadSetClient.GbHighBound, HandshakeError.GbOutOfRange)]
    [InlineData(BadSetClient.GbTooLong, HandshakeError.GbOutOfRange)]
    [InlineData(BadSetClient.GbZero, HandshakeError.GbOutOfRange)]
    [InlineData(BadSetClient.BadSha1, HandshakeError.BadClientDhHash)]
    [InlineData(BadSetClient.WrongTmpKey, HandshakeError.BadClientDhData)]
    [InlineData(BadSetClient.NotBlockMultiple, HandshakeError.BadEncryptedDataLength)]
    [InlineData(BadSetClient.TooShort, HandshakeError.BadEncryptedDataLength)]
    [InlineData(BadSetClient.TooLong, HandshakeError.BadEncryptedDataLength)]
    [InlineData(BadSetClient.InnerNonce, HandshakeError.InnerNonceMismatch)]
    [InlineData(BadSetClient.WrongServerNonce, HandshakeError.WrongServerNonce)]
    [InlineData(BadSetClient.UnknownNonce, HandshakeError.UnknownNonce)]
    [InlineData(BadSetClient.PaddingTooLong, HandshakeError.BadClientDhData)]
    [InlineData(BadSetClient.TrailingBytes, HandshakeError.Malformed)]
    public void Invalid_set_client_DH_params_gets_404_and_the_handshake_stays_failed(BadSetClient kind, HandshakeError expected)
    {
        var server = NewServer();
        var client = NewClient(300 + (int)kind);
        ToServerDhParams(server, client);
        NewNormalB(client);
        var p = TestClient.KnownPrime;
        var bound = BigInteger.One << 1984;
        byte[] body = kind switch
        {
            BadSetClient.GbOne => client.SetClientDhParams(client.ClientInner(BigInteger.One)),
            BadSetClient.GbPMinus1 => client.SetClientDhParams(client.ClientInner(p - 1)),
            BadSetClient.GbLowBound => client.SetClientDhParams(client.ClientInner(bound)),
            BadSetClient.GbHighBound => client.SetClientDhParams(client.ClientInner(p - bound)),
            BadSetClient.GbTooLong => client.SetClientDhParams(client.ClientInner(p + (BigInteger.One << 2050))),
            BadSetClient.GbZero => client.SetClientDhParams(client.ClientInner(BigInteger.Zero)),
            BadSetClient.BadSha1 => client.SetClientDhParams(corruptHash: true),
            BadSetClient.WrongTmpKey => client.SetClientDhParams(key: client.Bytes(32)),
            BadSetClient.NotBlockMultiple => client.SetClientDhParamsRaw(client.Bytes(330)),
            BadSetClient.TooShort => client.SetClientDhParamsRaw(client.Bytes(64)),
            BadSetClient.TooLong => client.SetClientDhParamsRaw(client.Bytes(1024)),
            BadSetClient.InnerNonce => client.SetClientDhParams(client.ClientInner(nonce: client.Bytes(16))),
            BadSetClient.WrongServerNonce => client.SetClientDhParamsRaw(client.Bytes(336), serverNonce: client.Bytes(16)),
            BadSetClient.UnknownNonce => UnknownNonceSet(client),
            BadSetClient.PaddingTooLong => client.SetClientDhParams([.. client.ClientInner(), .. new byte[16]]),
            BadSetClient.TrailingBytes => [.. client.SetClientDhParams(), 1, 2, 3, 4],
            _ => throw new InvalidOperationException(),
        };
        AssertFail(server.Handle(body), expected);

        var followUp = server.Handle(client.SetClientDhParams());
        if (kind is BadSetClient.UnknownNonce or BadSetClient.TrailingBytes)
        {
            Assert.IsType<HandshakeOutcome.KeyReady>(followUp);
            server.AcceptKey();
        }
        else
        {
            AssertFail(followUp, HandshakeError.HandshakeFailed);
        }
    }

    private static byte[] UnknownNonceSet(TestClient client)
    {
        var nonce = client.Nonce;
        client.Nonce = client.Bytes(16);
        var body = client.SetClientDhParamsRaw(client.Bytes(336));
        client.Nonce = nonce;
        return body;
    }

    [Fact]
    public void Out_of_order_and_unknown_messages_fail()
    {
        var server = NewServer();
        AssertFail(server.Handle([]), HandshakeError.Malformed);
        AssertFail(server.Handle([1, 2]), HandshakeError.Malformed);
        AssertFail(server.Handle([0x78, 0x97, 0x46, 0x60, 1, 2]), HandshakeError.Malformed);         // req_pq, short nonce
        AssertFail(server.Handle([0xec, 0x77, 0xbe, 0x7a, 0, 0, 0, 0, 0, 0, 0, 0]), HandshakeError.UnexpectedConstructor); // ping
        AssertFail(server.Handle([0x34, 0xf7, 0xcb, 0x3b, .. new byte[48]]), HandshakeError.UnexpectedConstructor);         // dh_gen_ok from a client

        var client = NewClient(400);
        client.ReadResPq(Reply(server.Handle(client.ReqPq())));
        // set_client_DH_params before req_DH_params
        AssertFail(server.Handle(client.SetClientDhParamsRaw(client.Bytes(336))), HandshakeError.UnexpectedRequest);
        Assert.Equal(HandshakePhase.Failed, server.Phase);
        Assert.False(server.InProgress);

        // A second req_DH_params that is not an exact repeat
        var server2 = NewServer();
        var c2 = NewClient(401);
        ToServerDhParams(server2, c2);
        AssertFail(server2.Handle(c2.ReqDhParams(c2.RsaPad(c2.InnerData(TestClient.PqInnerDc)))), HandshakeError.UnexpectedRequest);
    }

    [Fact]
    public void Handling_while_a_key_decision_is_pending_is_a_programming_error()
    {
        var server = NewServer();
        var client = NewClient(500);
        ToServerDhParams(server, client);
        SendClientDh(server, client);
        Assert.Throws<InvalidOperationException>(() => server.Handle(client.ReqPq()));
        server.AcceptKey();
        Assert.Throws<InvalidOperationException>(() => server.AcceptKey());
        Assert.Throws<InvalidOperationException>(() => server.RejectKey());
    }

    [Fact]
    public void Connection_limits()
    {
        var server = NewServer(new ServerHandshakeOptions { DcId = 2, MaxHandshakesPerConnection = 2, MaxMessagesPerConnection = 6 });
        Reply(server.Handle(NewClient(600).ReqPq()));
        Reply(server.Handle(NewClient(601).ReqPq()));
        AssertFail(server.Handle(NewClient(602).ReqPq()), HandshakeError.TooManyHandshakes);
        var req = NewClient(600).ReqPq();
        Reply(server.Handle(req)); // 4: exact repeat
        Reply(server.Handle(req)); // 5
        Reply(server.Handle(req)); // 6
        AssertFail(server.Handle(req), HandshakeError.TooManyMessages);
        Assert.Equal(7, server.MessageCount);
    }

    [Fact]
    public void Two_keys_on_one_connection_a_permanent_then_a_temporary_one()
    {
        var server = NewServer();
        var perm = NewClient(700);
        ToServerDhParams(server, perm);
        var k1 = SendClientDh(server, perm);
        perm.ReadDhGen(server.AcceptKey());
        var temp = NewClient(701);
        ToServerDhParams(server, temp, TestClient.PqInnerTempDc, legacy: false, expiresIn: 86400);
        var k2 = SendClientDh(server, temp);
        temp.ReadDhGen(server.AcceptKey());
        Assert.False(k1.Key.IsTemporary);
        Assert.True(k2.Key.IsTemporary);
        Assert.NotEqual(k1.Key.AuthKeyId, k2.Key.AuthKeyId);
        Assert.Equal(2, server.CompletedKeys);
    }

    [Fact]
    public void Timestamps_let_the_gateway_time_a_handshake_out()
    {
        var time = new ManualTime(T0);
        var server = NewServer(time: time);
        var timeout = TimeSpan.FromSeconds(30);
        Assert.Equal(T0, server.CreatedAt);
        Assert.Null(server.StartedAt);
        Assert.False(server.HasTimedOut(timeout));
        time.Now = T0.AddSeconds(5);
        var client = NewClient(900);
        client.ReadResPq(Reply(server.Handle(client.ReqPq())));
        Assert.Equal(T0.AddSeconds(5), server.StartedAt);
        time.Now = T0.AddSeconds(20);
        client.ReadServerDhParamsOk(Reply(server.Handle(client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerDc))))));
        Assert.Equal(T0.AddSeconds(20), server.LastActivityAt);
        Assert.False(server.HasTimedOut(timeout));
        time.Now = T0.AddSeconds(36);
        Assert.True(server.HasTimedOut(timeout));
        SendClientDh(server, client);
        server.AcceptKey();
        Assert.False(server.HasTimedOut(timeout)); // done: nothing left to time out
        server.Dispose();
    }

    [Fact]
    public void Dispose_wipes_unfinished_secrets_and_later_messages_fail()
    {
        var server = NewServer();
        var client = NewClient(901);
        ToServerDhParams(server, client);
        server.Dispose();
        NewNormalB(client);
        // The attempt lost its tmp key: nothing can be decrypted any more; the request is refused, not crashed on.
        AssertFail(server.Handle(client.SetClientDhParams()), HandshakeError.HandshakeFailed);
        Assert.Equal(HandshakePhase.Failed, server.Phase);
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentException>(() => NewServer(new ServerHandshakeOptions { DcId = 0 }));
        Assert.Throws<ArgumentException>(() => NewServer(new ServerHandshakeOptions { MaxRetries = -1 }));
        Assert.Throws<ArgumentException>(() => NewServer(new ServerHandshakeOptions { MaxHandshakesPerConnection = 0 }));
        Assert.Throws<ArgumentException>(() => NewServer(new ServerHandshakeOptions { MaxMessagesPerConnection = 2 }));
        Assert.Throws<ArgumentException>(() => NewServer(new ServerHandshakeOptions { MaxTemporaryKeyLifetime = 0 }));
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        var rng = new Random(99);
        var server = NewServer(new ServerHandshakeOptions { DcId = 2, MaxMessagesPerConnection = 100000 });
        var client = NewClient(800);
        client.ReadResPq(Reply(server.Handle(client.ReqPq())));
        var good = client.ReqDhParams(client.RsaPad(client.InnerData(TestClient.PqInnerDc)));
        for (int i = 0; i < 3000; i++)
        {
            byte[] body;
            if (i % 3 == 0)
            {
                body = new byte[rng.Next(0, 400)];
                rng.NextBytes(body);
            }
            else
            {
                // keep the constructor id and nonces, mutate the rest
                body = (byte[])good.Clone();
                int flips = rng.Next(1, 4);
                for (int f = 0; f < flips; f++) body[rng.Next(36, body.Length)] ^= (byte)rng.Next(1, 256);
                if (i % 3 == 2) body = body[..rng.Next(0, body.Length)];
            }
            var outcome = server.Handle(body);
            Assert.True(outcome is HandshakeOutcome.Fail or HandshakeOutcome.Reply);
        }
    }
}
