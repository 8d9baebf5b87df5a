using System.Security.Cryptography;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Handshake;

public sealed class HandshakeMessageTests
{
    private static byte[] Write(Action<TlWriter> write)
    {
        using var w = new TlWriter();
        write(w);
        return w.ToArray();
    }

    private delegate bool Reader<T>(ref TlReader r, out T value);

    private static T RoundTrip<T>(Action<TlWriter> write, Reader<T> read)
    {
        var bytes = Write(write);
        var r = new TlReader(bytes);
        Assert.True(read(ref r, out var value));
        Assert.True(r.AtEnd);
        // Every strict prefix fails with a typed error, never an exception.
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            var t = new TlReader(bytes.AsSpan(0, cut));
            Assert.False(read(ref t, out _));
            Assert.NotEqual(TlError.None, t.Error);
        }
        return value;
    }

    [Fact]
    public void Every_constructor_round_trips_and_every_truncation_fails()
    {
        UInt128 n = new UInt128(0x0102030405060708, 0x090a0b0c0d0e0f10), sn = UInt128.MaxValue - 5;
        var nn = RandomNumberGenerator.GetBytes(32);
        var big = RandomNumberGenerator.GetBytes(256);

        Assert.Equal(new ReqPq(true, n), RoundTrip<ReqPq>(new ReqPq(true, n).Write, ReqPq.TryRead));
        Assert.False(RoundTrip<ReqPq>(new ReqPq(false, n).Write, ReqPq.TryRead).Multi);

        var res = RoundTrip<ResPq>(new ResPq(n, sn, [1, 2, 3, 4, 5, 6, 7, 8], [1, -2, long.MaxValue]).Write, ResPq.TryRead);
        Assert.Equal([1L, -2, long.MaxValue], res.Fingerprints);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], res.Pq);

        foreach (var kind in Enum.GetValues<PqInnerDataKind>())
        {
            int? dc = kind is PqInnerDataKind.Dc or PqInnerDataKind.TempDc ? -10002 : null;
            int? exp = kind is PqInnerDataKind.Temp or PqInnerDataKind.TempDc ? 3600 : null;
            var inner = new PqInnerData(kind, [9, 9], [1], [2], n, sn, nn, dc, exp);
            var back = RoundTrip<PqInnerData>(inner.Write, PqInnerData.TryRead);
            Assert.Equal(kind, back.Kind);
            Assert.Equal(dc, back.Dc);
            Assert.Equal(exp, back.ExpiresIn);
            Assert.Equal(nn, back.NewNonce);
            Assert.Equal(n, back.Nonce);
            Assert.Equal(sn, back.ServerNonce);
            Assert.DoesNotContain(Convert.ToHexString(nn), back.ToString());
        }

        var req = RoundTrip<ReqDhParams>(new ReqDhParams(n, sn, [1, 2], [3, 4], -77, big).Write, ReqDhParams.TryRead);
        Assert.Equal(big, req.EncryptedData);
        Assert.Equal(-77, req.Fingerprint);

        Assert.Equal(big, RoundTrip<ServerDhParamsOk>(new ServerDhParamsOk(n, sn, big).Write, ServerDhParamsOk.TryRead).EncryptedAnswer);
        Assert.Equal((UInt128)99, RoundTrip<ServerDhParamsFail>(new ServerDhParamsFail(n, sn, 99).Write, ServerDhParamsFail.TryRead).NewNonceHash);
        var sdi = RoundTrip<ServerDhInnerData>(new ServerDhInnerData(n, sn, 3, big, big, 1234).Write, ServerDhInnerData.TryRead);
        Assert.Equal(1234, sdi.ServerTime);
        Assert.Equal(big, RoundTrip<SetClientDhParams>(new SetClientDhParams(n, sn, big).Write, SetClientDhParams.TryRead).EncryptedData);
        var cdi = RoundTrip<ClientDhInnerData>(new ClientDhInnerData(n, sn, long.MinValue, big).Write, ClientDhInnerData.TryRead);
        Assert.Equal(long.MinValue, cdi.RetryId);
        foreach (var kind in Enum.GetValues<DhGenKind>())
        {
            var g = RoundTrip<DhGenResult>(new DhGenResult(kind, n, sn, 42).Write, DhGenResult.TryRead);
            Assert.Equal(kind, g.Kind);
        }
    }

    [Fact]
    public void Wrong_constructor_ids_are_typed_errors()
    {
        var bytes = Write(new ReqDhParams(1, 2, [1], [2], 3, [4]).Write);
        var r = new TlReader(bytes);
        Assert.False(ReqPq.TryRead(ref r, out _));
        Assert.Equal(TlError.UnexpectedConstructor, r.Error);
        r = new TlReader(bytes);
        Assert.False(PqInnerData.TryRead(ref r, out _));
        Assert.Equal(TlError.UnexpectedConstructor, r.Error);
        r = new TlReader(bytes);
        Assert.False(DhGenResult.TryRead(ref r, out _));
        Assert.Equal(TlError.UnexpectedConstructor, r.Error);
        r = new TlReader(bytes);
        Assert.False(SetClientDhParams.TryRead(ref r, out _));
        Assert.Equal(TlError.UnexpectedConstructor, r.Error);
    }

    [Fact]
    public void String_with_0xff_prefix_or_oversized_length_fails()
    {
        // req_DH_params whose p string starts with 0xff, then one whose encrypted_data claims 0xFFFFFF bytes.
        var good = Write(new ReqDhParams(1, 2, [1], [2], 3, [4]).Write);
        var bad = (byte[])good.Clone();
        bad[36] = 0xff;
        var r = new TlReader(bad);
        Assert.False(ReqDhParams.TryRead(ref r, out _));
        Assert.Equal(TlError.BadLengthPrefix, r.Error);
        bad = (byte[])good.Clone();
        int strAt = 4 + 16 + 16 + 4 + 4 + 8;
        bad[strAt] = 0xfe;
        bad[strAt + 1] = bad[strAt + 2] = bad[strAt + 3] = 0xff;
        r = new TlReader(bad);
        Assert.False(ReqDhParams.TryRead(ref r, out _));
        Assert.NotEqual(TlError.None, r.Error);
    }

    [Fact]
    public void Unencrypted_message_framing()
    {
        var body = new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        var frame = UnencryptedMessage.Create(0x65abc0fc000df764, body);
        Assert.Equal(28, frame.Length);
        Assert.Equal(HandshakeError.None, UnencryptedMessage.TryRead(frame, out long id, out var read));
        Assert.Equal(0x65abc0fc000df764, id);
        Assert.Equal(body, read.ToArray());

        // up to 15 bytes of transport padding are tolerated, 16 are not
        byte[] padded = [.. frame, .. new byte[15]];
        Assert.Equal(HandshakeError.None, UnencryptedMessage.TryRead(padded, out _, out read));
        Assert.Equal(body, read.ToArray());
        byte[] overPadded = [.. frame, .. new byte[16]];
        Assert.Equal(HandshakeError.BadMessageLength, UnencryptedMessage.TryRead(overPadded, out _, out _));

        Assert.Equal(HandshakeError.Truncated, UnencryptedMessage.TryRead(frame.AsSpan(0, 19), out _, out _));
        Assert.Equal(HandshakeError.Truncated, UnencryptedMessage.TryRead(frame.AsSpan(0, 27), out _, out _));
        Assert.Equal(HandshakeError.Truncated, UnencryptedMessage.TryRead([], out _, out _));

        var keyed = (byte[])frame.Clone();
        keyed[3] = 1;
        Assert.Equal(HandshakeError.NotUnencrypted, UnencryptedMessage.TryRead(keyed, out _, out _));

        var negative = (byte[])frame.Clone();
        negative[19] = 0x80;
        Assert.Equal(HandshakeError.BadMessageLength, UnencryptedMessage.TryRead(negative, out _, out _));
        var odd = (byte[])frame.Clone();
        odd[16] = 7;
        Assert.Equal(HandshakeError.BadMessageLength, UnencryptedMessage.TryRead(odd, out _, out _));
        var huge = (byte[])frame.Clone();
        huge[18] = 0x7f;
        Assert.Equal(HandshakeError.Truncated, UnencryptedMessage.TryRead(huge, out _, out _));

        var span = new byte[40];
        Assert.Equal(28, UnencryptedMessage.Write(span, 5, body));
        Assert.Equal(frame[20..], span[20..28]);
    }

    [Fact]
    public void Pq_generator_gives_distinct_31_bit_primes_in_order()
    {
        var seen = new HashSet<ulong>();
        for (int i = 0; i < 200; i++)
        {
            var (p, q) = PqGenerator.Generate(RandomNumberGenerator.Fill);
            Assert.True(p < q);
            Assert.InRange(p, 1u << 30, (1u << 31) - 1);
            Assert.InRange(q, 1u << 30, (1u << 31) - 1);
            Assert.True(PqGenerator.IsPrime(p) && PqGenerator.IsPrime(q));
            ulong pq = (ulong)p * q;
            Assert.True(pq < (1UL << 63));
            if (i % 10 == 0)
            {
                ulong f = TestClient.PollardRho(pq);
                Assert.Equal(p, Math.Min(f, pq / f));
            }
            seen.Add(pq);
        }
        Assert.True(seen.Count > 190, "pq must vary");
    }

    [Fact]
    public void Miller_Rabin_agrees_with_trial_division_and_known_hard_cases()
    {
        for (ulong n = 0; n < 20000; n++)
        {
            bool prime = n >= 2;
            for (ulong d = 2; d * d <= n && prime; d++) prime = n % d != 0;
            Assert.Equal(prime, PqGenerator.IsPrime(n));
        }
        // Strong pseudoprimes to several bases, Carmichael numbers, and large primes.
        Assert.False(PqGenerator.IsPrime(3215031751));           // spsp(2,3,5,7)
        Assert.False(PqGenerator.IsPrime(3825123056546413051));  // spsp to bases 2..23
        Assert.False(PqGenerator.IsPrime(561));
        Assert.False(PqGenerator.IsPrime(4759123141));           // 48781 * 97561, spsp(2,7,61): needs the 64-bit path
        Assert.False(PqGenerator.IsPrime(2152302898747));        // spsp(2,3,5,7,11)
        Assert.False(PqGenerator.IsPrime(1373653));              // spsp(2,3)
        Assert.False(PqGenerator.IsPrime(25326001));             // spsp(2,3,5)
        Assert.False(PqGenerator.IsPrime(3_215_031_751UL));
        Assert.True(PqGenerator.IsPrime(4294967291));            // largest 32-bit prime
        Assert.True(PqGenerator.IsPrime(4759123129));            // a prime above 2^32 (64-bit path)
        Assert.True(PqGenerator.IsPrime(18446744073709551557UL)); // largest 64-bit prime
        Assert.True(PqGenerator.IsPrime(2147483647));             // 2^31 - 1
        Assert.False(PqGenerator.IsPrime(18446744073709551557UL - 2));
    }
}
