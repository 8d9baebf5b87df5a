using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Tl;

namespace MtActors.Benchmarks;

/// <summary>
/// Server CPU cost of one auth-key creation and of its three big-number parts, against BigInteger.ModPow and
/// against OpenSSL's own RSA private operation reached through .NET (RSA.SignHash, RSA.Decrypt: CRT +
/// blinding inside libcrypto, what `openssl speed rsa2048` measures as "sign").
/// Run: dotnet run -c Release --project bench/MtActors.Benchmarks -- --filter '*HandshakeBenchmarks*' --job short
/// Compare with: openssl speed -seconds 3 rsa2048
/// </summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks
{
    private RsaServerKey _key = null!;
    private RsaKeySet _keys = null!;
    private RSA _dotnetRsa = null!;
    private byte[] _ciphertext = null!;
    private byte[] _pkcs1Ciphertext = null!;
    private byte[] _hash = null!;
    private BigInteger _c, _d, _n;
    private readonly byte[] _plain = new byte[256];

    private byte[] _a = null!;
    private byte[] _gb = null!;
    private readonly byte[] _out = new byte[256];
    private BigInteger _aBig, _gbBig, _p;

    private readonly ServerHandshakeOptions _options = new() { DcId = 2 };
    private byte[] _reqPq = null!;
    private byte[] _reqDh = null!;
    private byte[] _setClient = null!;

    [GlobalSetup]
    public void Setup()
    {
        NativeCrypto.EnsureAvailable();
        _dotnetRsa = RSA.Create(2048);
        var prm = _dotnetRsa.ExportParameters(true);
        _key = RsaServerKey.FromPem(_dotnetRsa.ExportPkcs8PrivateKeyPem());
        _keys = new RsaKeySet(_key);
        _n = Big(prm.Modulus!);
        _d = Big(prm.D!);
        var rnd = new byte[256];
        RandomNumberGenerator.Fill(rnd);
        _c = Big(rnd) % _n;
        _ciphertext = Be(_c, 256);
        _pkcs1Ciphertext = _dotnetRsa.Encrypt(new byte[100], RSAEncryptionPadding.Pkcs1);
        _hash = SHA256.HashData(rnd);

        _p = Big(DhGroup.TelegramPrime.ToArray());
        _a = RandomNumberGenerator.GetBytes(256);
        _aBig = Big(_a);
        _gbBig = BigInteger.ModPow(3, Big(RandomNumberGenerator.GetBytes(256)), _p);
        _gb = Be(_gbBig, 256);

        BuildClientMessages();
        // Sanity: the full handshake really completes.
        if (FullServerHandshake() is not HandshakeOutcome.KeyReady) throw new InvalidOperationException("handshake did not complete");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _keys.Dispose();
        _dotnetRsa.Dispose();
    }

    // ---- RSA private operation (req_DH_params) ----

    [Benchmark(Description = "RSA-2048 private op: ours (libcrypto BN, CRT + blinding)")]
    public bool RsaPrivateOurs() => _key.TryDecryptRaw(_ciphertext, _plain);

    [Benchmark(Description = "RSA-2048 private op: OpenSSL via .NET RSA.SignHash (PKCS#1)")]
    public byte[] RsaPrivateOpenSslSign() => _dotnetRsa.SignHash(_hash, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    [Benchmark(Description = "RSA-2048 private op: OpenSSL via .NET RSA.Decrypt (PKCS#1)")]
    public byte[] RsaPrivateOpenSslDecrypt() => _dotnetRsa.Decrypt(_pkcs1Ciphertext, RSAEncryptionPadding.Pkcs1);

    [Benchmark(Description = "RSA-2048 private op: BigInteger.ModPow(c, d, n)")]
    public BigInteger RsaPrivateBigInteger() => BigInteger.ModPow(_c, _d, _n);

    // ---- DH (req_DH_params: g^a; set_client_DH_params: g_b^a) ----

    [Benchmark(Description = "g^a mod p: ours (consttime)")]
    public byte[] GaOurs()
    {
        DhGroup.Telegram.ModPow([3], _a, _out, secretExponent: true);
        return _out;
    }

    [Benchmark(Description = "g^a mod p: BigInteger.ModPow")]
    public BigInteger GaBigInteger() => BigInteger.ModPow(3, _aBig, _p);

    [Benchmark(Description = "g_b^a mod p: ours (consttime)")]
    public byte[] GbAOurs()
    {
        DhGroup.Telegram.ComputeSharedKey(_gb, _a, _out);
        return _out;
    }

    [Benchmark(Description = "g_b^a mod p: BigInteger.ModPow")]
    public BigInteger GbABigInteger() => BigInteger.ModPow(_gbBig, _aBig, _p);

    // ---- the whole server side ----

    [Benchmark(Description = "Full server handshake (3 requests, key ready)")]
    public HandshakeOutcome FullServerHandshake()
    {
        var server = new ServerHandshake(_keys, _options, TimeProvider.System, SeededRandom());
        server.Handle(_reqPq);
        server.Handle(_reqDh);
        var outcome = server.Handle(_setClient);
        if (outcome is HandshakeOutcome.KeyReady) server.AcceptKey();
        return outcome;
    }

    [Benchmark(Description = "pq generation (two 31-bit primes)")]
    public (uint, uint) PqGeneration() => PqGenerator.Generate(RandomNumberGenerator.Fill);

    /// <summary>The server's random is seeded so every benchmark iteration sees the same server_nonce, pq and a,
    /// and the pre-built client messages stay valid.</summary>
    private static HandshakeRandom SeededRandom()
    {
        var r = new Random(12345);
        return d => r.NextBytes(d);
    }

    /// <summary>A minimal client (RSA_PAD, BigInteger) run once against a seeded server to record its three requests.</summary>
    private void BuildClientMessages()
    {
        var server = new ServerHandshake(_keys, _options, TimeProvider.System, SeededRandom());
        var nonce = RandomNumberGenerator.GetBytes(16);
        var newNonce = RandomNumberGenerator.GetBytes(32);
        using var w = new TlWriter();
        w.WriteUInt32(HandshakeIds.ReqPqMulti);
        w.WriteRaw(nonce);
        _reqPq = w.ToArray();
        var resBody = ((HandshakeOutcome.Reply)server.Handle(_reqPq)).Body;
        var rr = new TlReader(resBody);
        ResPq.TryRead(ref rr, out var resPq);
        ulong pq = BinaryPrimitives.ReadUInt64BigEndian(new byte[8 - resPq.Pq.Length].Concat(resPq.Pq).ToArray());
        ulong p = 2;
        for (ulong i = 3; i * i <= pq; i += 2)
        {
            if (pq % i == 0)
            {
                p = i;
                break;
            }
        }
        ulong q = pq / p;
        var inner = new PqInnerData(PqInnerDataKind.Dc, resPq.Pq, PqGenerator.ToBigEndian(p), PqGenerator.ToBigEndian(q),
            resPq.Nonce, resPq.ServerNonce, newNonce, 2, null);
        w.Reset();
        inner.Write(w);
        var data = w.ToArray();

        // RSA_PAD
        var pub = _dotnetRsa.ExportParameters(false);
        var e = Big(pub.Exponent!);
        byte[] encrypted;
        while (true)
        {
            var withPadding = new byte[192];
            data.CopyTo(withPadding, 0);
            RandomNumberGenerator.Fill(withPadding.AsSpan(data.Length));
            var tempKey = RandomNumberGenerator.GetBytes(32);
            var dataWithHash = withPadding.Reverse().Concat(SHA256.HashData(tempKey.Concat(withPadding).ToArray())).ToArray();
            var aesEncrypted = new byte[224];
            AesIge.Encrypt(tempKey, new byte[32], dataWithHash, aesEncrypted);
            var h = SHA256.HashData(aesEncrypted);
            var m = new byte[256];
            for (int i = 0; i < 32; i++) m[i] = (byte)(tempKey[i] ^ h[i]);
            aesEncrypted.CopyTo(m, 32);
            if (Big(m) >= _n) continue;
            encrypted = Be(BigInteger.ModPow(Big(m), e, _n), 256);
            break;
        }
        w.Reset();
        new ReqDhParams(resPq.Nonce, resPq.ServerNonce, PqGenerator.ToBigEndian(p), PqGenerator.ToBigEndian(q), _key.Fingerprint, encrypted).Write(w);
        _reqDh = w.ToArray();
        var dhBody = ((HandshakeOutcome.Reply)server.Handle(_reqDh)).Body;
        rr = new TlReader(dhBody);
        ServerDhParamsOk.TryRead(ref rr, out var ok);
        var key = new byte[32];
        var iv = new byte[32];
        HandshakeCrypto.DeriveTmpAes(newNonce, TlNonceBytes(resPq.ServerNonce), key, iv);

        // client_DH_inner_data with a b whose key has a non-zero top byte
        var answer = new byte[ok.EncryptedAnswer.Length];
        AesIge.Decrypt(key, iv, ok.EncryptedAnswer, answer);
        rr = new TlReader(answer.AsSpan(20));
        ServerDhInnerData.TryRead(ref rr, out var sdi);
        var ga = Big(sdi.GA);
        BigInteger b;
        do
        {
            b = Big(RandomNumberGenerator.GetBytes(256));
        } while (Be(BigInteger.ModPow(ga, b, _p), 256)[0] == 0);
        w.Reset();
        new ClientDhInnerData(resPq.Nonce, resPq.ServerNonce, 0, Be(BigInteger.ModPow(3, b, _p), 256)).Write(w);
        var cdi = w.ToArray();
        var plain = new byte[(20 + cdi.Length + 15) / 16 * 16];
        SHA1.HashData(cdi).CopyTo(plain, 0);
        cdi.CopyTo(plain, 20);
        var enc = new byte[plain.Length];
        AesIge.Encrypt(key, iv, plain, enc);
        w.Reset();
        new SetClientDhParams(resPq.Nonce, resPq.ServerNonce, enc).Write(w);
        _setClient = w.ToArray();
    }

    private static byte[] TlNonceBytes(UInt128 v)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(b, v);
        return b;
    }

    private static BigInteger Big(byte[] b) => new(b, isUnsigned: true, isBigEndian: true);

    private static byte[] Be(BigInteger v, int size)
    {
        var m = v.ToByteArray(isUnsigned: true, isBigEndian: true);
        var r = new byte[size];
        m.CopyTo(r, size - m.Length);
        return r;
    }
}
