using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace MtActors.Protocol.Tests.Handshake;

/// <summary>
/// The client half of auth-key creation, written independently of the server code (own TL bytes, own AES-IGE,
/// own KDF, RSA and DH with BigInteger), so the server is checked against a second implementation.
/// Each step is separate so tests can tamper with any request.
/// </summary>
internal sealed class TestClient
{
    public const uint ReqPqMultiId = 0xbe7e8ef1, ReqPqId = 0x60469778, ResPqId = 0x05162463;
    public const uint PqInner = 0x83c95aec, PqInnerDc = 0xa9f55f95, PqInnerTemp = 0x3c6a84d4, PqInnerTempDc = 0x56fddf88;
    public const uint ReqDhParamsId = 0xd712e4be, ServerDhParamsOkId = 0xd0e8075c, ServerDhInnerDataId = 0xb5890dba;
    public const uint SetClientDhParamsId = 0xf5045f1f, ClientDhInnerDataId = 0x6643b654;
    public const uint DhGenOkId = 0x3bcbf734, DhGenRetryId = 0x46dc1fb9, DhGenFailId = 0xa69dae02;

    public static readonly BigInteger KnownPrime = FromBe(Convert.FromHexString(
        "C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37" +
        "20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F642477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4" +
        "A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4" +
        "E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B"));

    private readonly BigInteger _n;
    private readonly BigInteger _e;
    private readonly Random _rng;

    public TestClient(string publicKeyPem, int seed)
    {
        using var rsa = RSA.Create();
        rsa.ImportFromPem(publicKeyPem);
        var prm = rsa.ExportParameters(false);
        _n = FromBe(prm.Modulus!);
        _e = FromBe(prm.Exponent!);
        Fingerprint = ComputeFingerprint(prm.Modulus!, prm.Exponent!);
        _rng = new Random(seed);
        Nonce = Bytes(16);
        NewNonce = Bytes(32);
    }

    public long Fingerprint { get; }
    public byte[] Nonce { get; set; }
    public byte[] NewNonce { get; set; }
    public byte[] ServerNonce { get; private set; } = [];
    public byte[] PqBytes { get; private set; } = [];
    public ulong P { get; private set; }
    public ulong Q { get; private set; }
    public long[] ServerFingerprints { get; private set; } = [];
    public byte[] TmpKey { get; private set; } = [];
    public byte[] TmpIv { get; private set; } = [];
    public BigInteger GA { get; private set; }
    public int ServerTime { get; private set; }
    public BigInteger B { get; set; }
    public byte[] AuthKey { get; private set; } = [];
    public long RetryId { get; set; }

    public byte[] Bytes(int n)
    {
        var b = new byte[n];
        _rng.NextBytes(b);
        return b;
    }

    // ---- step 1 ----
    public byte[] ReqPq(bool multi = true) => new Tl().U32(multi ? ReqPqMultiId : ReqPqId).Raw(Nonce).ToArray();

    public void ReadResPq(byte[] body)
    {
        var r = new TlIn(body);
        Assert.Equal(ResPqId, r.U32());
        Assert.Equal(Nonce, r.Raw(16));
        ServerNonce = r.Raw(16);
        PqBytes = r.Str();
        Assert.Equal(0x1cb5c415u, r.U32());
        int count = r.I32();
        ServerFingerprints = Enumerable.Range(0, count).Select(_ => r.I64()).ToArray();
        Assert.True(r.AtEnd);
        ulong pq = 0;
        foreach (var b in PqBytes) pq = (pq << 8) | b;
        Assert.True(pq < (1UL << 63), "pq must fit in 63 bits");
        ulong f = PollardRho(pq);
        P = Math.Min(f, pq / f);
        Q = Math.Max(f, pq / f);
        Assert.Equal(pq, P * Q);
    }

    // ---- step 2 ----
    public byte[] InnerData(uint kind, int dc = 2, int expiresIn = 86400, byte[]? pq = null, ulong? p = null, ulong? q = null,
        byte[]? nonce = null, byte[]? serverNonce = null)
    {
        var t = new Tl().U32(kind).Str(pq ?? PqBytes).Str(MinBe(p ?? P)).Str(MinBe(q ?? Q))
            .Raw(nonce ?? Nonce).Raw(serverNonce ?? ServerNonce).Raw(NewNonce);
        if (kind is PqInnerDc or PqInnerTempDc) t.I32(dc);
        if (kind is PqInnerTemp or PqInnerTempDc) t.I32(expiresIn);
        return t.ToArray();
    }

    /// <summary>RSA_PAD (current docs): the encrypted_data for <paramref name="data"/>.</summary>
    public byte[] RsaPad(byte[] data, Action<byte[]>? tamperDataWithHash = null)
    {
        Assert.True(data.Length <= 144);
        while (true)
        {
            var dataWithPadding = new byte[192];
            data.CopyTo(dataWithPadding, 0);
            _rng.NextBytes(dataWithPadding.AsSpan(data.Length));
            var reversed = dataWithPadding.Reverse().ToArray();
            var tempKey = Bytes(32);
            var dataWithHash = reversed.Concat(SHA256.HashData(tempKey.Concat(dataWithPadding).ToArray())).ToArray();
            tamperDataWithHash?.Invoke(dataWithHash);
            var aesEncrypted = IgeEncrypt(dataWithHash, tempKey, new byte[32]);
            var h = SHA256.HashData(aesEncrypted);
            var keyAesEncrypted = new byte[256];
            for (int i = 0; i < 32; i++) keyAesEncrypted[i] = (byte)(tempKey[i] ^ h[i]);
            aesEncrypted.CopyTo(keyAesEncrypted, 32);
            var m = FromBe(keyAesEncrypted);
            if (m >= _n) continue; // the spec's "redo with a new temp_key"
            return ToBe(BigInteger.ModPow(m, _e, _n), 256);
        }
    }

    /// <summary>Legacy scheme: SHA1(data) || data || random, 255 bytes, raw RSA.</summary>
    public byte[] RsaSha1(byte[] data, bool corruptHash = false)
    {
        var plain = new byte[255];
        SHA1.HashData(data).CopyTo(plain, 0);
        if (corruptHash) plain[3] ^= 0x40;
        data.CopyTo(plain, 20);
        _rng.NextBytes(plain.AsSpan(20 + data.Length));
        return ToBe(BigInteger.ModPow(FromBe(plain), _e, _n), 256);
    }

    /// <summary>Raw RSA of an arbitrary value (to build invalid ciphertexts).</summary>
    public byte[] RsaRaw(byte[] plain256) => ToBe(BigInteger.ModPow(FromBe(plain256), _e, _n), 256);

    public byte[] ModulusBytes => ToBe(_n, 256);

    public byte[] ReqDhParams(byte[] encryptedData, long? fingerprint = null, ulong? p = null, ulong? q = null, byte[]? nonce = null,
        byte[]? serverNonce = null) =>
        new Tl().U32(ReqDhParamsId).Raw(nonce ?? Nonce).Raw(serverNonce ?? ServerNonce).Str(MinBe(p ?? P)).Str(MinBe(q ?? Q))
            .I64(fingerprint ?? Fingerprint).Str(encryptedData).ToArray();

    public void ReadServerDhParamsOk(byte[] body)
    {
        var r = new TlIn(body);
        Assert.Equal(ServerDhParamsOkId, r.U32());
        Assert.Equal(Nonce, r.Raw(16));
        Assert.Equal(ServerNonce, r.Raw(16));
        var encrypted = r.Str();
        Assert.True(r.AtEnd);
        Assert.Equal(0, encrypted.Length % 16);

        // tmp_aes_key / iv, independently
        var ns = SHA1.HashData(NewNonce.Concat(ServerNonce).ToArray());
        var sn = SHA1.HashData(ServerNonce.Concat(NewNonce).ToArray());
        var nn = SHA1.HashData(NewNonce.Concat(NewNonce).ToArray());
        TmpKey = ns.Concat(sn.Take(12)).ToArray();
        TmpIv = sn.Skip(12).Concat(nn).Concat(NewNonce.Take(4)).ToArray();

        var plain = IgeDecrypt(encrypted, TmpKey, TmpIv);
        var a = new TlIn(plain.AsSpan(20).ToArray());
        Assert.Equal(ServerDhInnerDataId, a.U32());
        Assert.Equal(Nonce, a.Raw(16));
        Assert.Equal(ServerNonce, a.Raw(16));
        Assert.Equal(3, a.I32());
        Assert.Equal(KnownPrime, FromBe(a.Str()));
        var gaBytes = a.Str();
        Assert.Equal(256, gaBytes.Length);
        GA = FromBe(gaBytes);
        ServerTime = a.I32();
        int answerLength = a.Position;
        Assert.InRange(plain.Length - 20 - answerLength, 0, 15);
        Assert.Equal(SHA1.HashData(plain.AsSpan(20, answerLength)), plain.AsSpan(0, 20).ToArray());
        var bound = BigInteger.One << 1984;
        Assert.True(GA > bound && GA < KnownPrime - bound, "g_a in range");
    }

    public BigInteger NewB()
    {
        B = FromBe(Bytes(256));
        return B;
    }

    public byte[] ClientInner(BigInteger? gb = null, long? retryId = null, byte[]? nonce = null) =>
        new Tl().U32(ClientDhInnerDataId).Raw(nonce ?? Nonce).Raw(ServerNonce).I64(retryId ?? RetryId)
            .Str(ToMinBe(gb ?? BigInteger.ModPow(3, B, KnownPrime))).ToArray();

    public byte[] SetClientDhParams(byte[]? inner = null, bool corruptHash = false, byte[]? key = null)
    {
        inner ??= ClientInner();
        var sha = SHA1.HashData(inner);
        if (corruptHash) sha[0] ^= 1;
        int len = (20 + inner.Length + 15) / 16 * 16;
        var plain = new byte[len];
        sha.CopyTo(plain, 0);
        inner.CopyTo(plain, 20);
        _rng.NextBytes(plain.AsSpan(20 + inner.Length));
        var encrypted = IgeEncrypt(plain, key ?? TmpKey, TmpIv);
        return SetClientDhParamsRaw(encrypted);
    }

    public byte[] SetClientDhParamsRaw(byte[] encrypted, byte[]? serverNonce = null) =>
        new Tl().U32(SetClientDhParamsId).Raw(Nonce).Raw(serverNonce ?? ServerNonce).Str(encrypted).ToArray();

    public byte[] ComputeAuthKey() => AuthKey = ToBe(BigInteger.ModPow(GA, B, KnownPrime), 256);

    /// <summary>Reads dh_gen_*; checks nonces and new_nonce_hashN against our key; on retry sets RetryId.</summary>
    public uint ReadDhGen(byte[] body)
    {
        var r = new TlIn(body);
        uint id = r.U32();
        Assert.Equal(Nonce, r.Raw(16));
        Assert.Equal(ServerNonce, r.Raw(16));
        var hash = r.Raw(16);
        Assert.True(r.AtEnd);
        int n = id switch { DhGenOkId => 1, DhGenRetryId => 2, DhGenFailId => 3, _ => 0 };
        Assert.NotEqual(0, n);
        var key = ComputeAuthKey();
        var keySha = SHA1.HashData(key);
        var expected = SHA1.HashData(NewNonce.Concat(new[] { (byte)n }).Concat(keySha.Take(8)).ToArray()).Skip(4).ToArray();
        Assert.Equal(expected, hash);
        if (n == 2) RetryId = BinaryPrimitives.ReadInt64LittleEndian(keySha);
        return id;
    }

    public long AuthKeyId => BinaryPrimitives.ReadInt64LittleEndian(SHA1.HashData(AuthKey).AsSpan(12));

    public long InitialSalt => BinaryPrimitives.ReadInt64LittleEndian(NewNonce) ^ BinaryPrimitives.ReadInt64LittleEndian(ServerNonce);

    // ---- helpers, all independent of the server code ----
    public static long ComputeFingerprint(byte[] n, byte[] e)
    {
        var t = new Tl().Str(TrimZeros(n)).Str(TrimZeros(e)).ToArray();
        return BinaryPrimitives.ReadInt64LittleEndian(SHA1.HashData(t).AsSpan(12));
    }

    private static byte[] TrimZeros(byte[] b) => b.SkipWhile(x => x == 0).ToArray();

    public static BigInteger FromBe(byte[] b) => new(b, isUnsigned: true, isBigEndian: true);

    public static byte[] ToMinBe(BigInteger v) => v.IsZero ? [0] : v.ToByteArray(isUnsigned: true, isBigEndian: true);

    public static byte[] ToBe(BigInteger v, int size)
    {
        var m = ToMinBe(v);
        var r = new byte[size];
        m.CopyTo(r, size - m.Length);
        return r;
    }

    public static byte[] MinBe(ulong v) => ToMinBe(new BigInteger(v));

    /// <summary>Pollard-Brent rho with batched gcds (pq of two ~31-bit primes factors in well under a millisecond).</summary>
    public static ulong PollardRho(ulong n)
    {
        if (n % 2 == 0) return 2;
        static ulong F(ulong x, ulong c, ulong n) => (ulong)(((UInt128)x * x + c) % n);
        static ulong MulMod(ulong a, ulong b, ulong n) => (ulong)((UInt128)a * b % n);
        for (ulong c = 1; ; c++)
        {
            ulong y = 2, x = 2, ys = 2, q = 1, g = 1;
            const int m = 128;
            for (ulong r = 1; g == 1; r <<= 1)
            {
                x = y;
                for (ulong i = 0; i < r; i++) y = F(y, c, n);
                for (ulong k = 0; k < r && g == 1; k += m)
                {
                    ys = y;
                    for (ulong i = 0; i < Math.Min((ulong)m, r - k); i++)
                    {
                        y = F(y, c, n);
                        q = MulMod(q, x > y ? x - y : y - x, n);
                    }
                    g = Gcd(q, n);
                }
            }
            if (g == n)
            {
                do
                {
                    ys = F(ys, c, n);
                    g = Gcd(x > ys ? x - ys : ys - x, n);
                } while (g == 1);
            }
            if (g != n) return g;
        }
    }

    private static ulong Gcd(ulong a, ulong b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    public static byte[] IgeEncrypt(byte[] plain, byte[] key, byte[] iv)
    {
        using var aes = Aes.Create();
        aes.Key = key;
        var outp = new byte[plain.Length];
        var x = iv.AsSpan(0, 16).ToArray(); // previous ciphertext
        var y = iv.AsSpan(16, 16).ToArray(); // previous plaintext
        var blk = new byte[16];
        for (int i = 0; i < plain.Length; i += 16)
        {
            for (int j = 0; j < 16; j++) blk[j] = (byte)(plain[i + j] ^ x[j]);
            var enc = aes.EncryptEcb(blk, PaddingMode.None);
            for (int j = 0; j < 16; j++) outp[i + j] = (byte)(enc[j] ^ y[j]);
            x = outp.AsSpan(i, 16).ToArray();
            y = plain.AsSpan(i, 16).ToArray();
        }
        return outp;
    }

    public static byte[] IgeDecrypt(byte[] cipher, byte[] key, byte[] iv)
    {
        using var aes = Aes.Create();
        aes.Key = key;
        var outp = new byte[cipher.Length];
        var x = iv.AsSpan(0, 16).ToArray();
        var y = iv.AsSpan(16, 16).ToArray();
        var blk = new byte[16];
        for (int i = 0; i < cipher.Length; i += 16)
        {
            for (int j = 0; j < 16; j++) blk[j] = (byte)(cipher[i + j] ^ y[j]);
            var dec = aes.DecryptEcb(blk, PaddingMode.None);
            for (int j = 0; j < 16; j++) outp[i + j] = (byte)(dec[j] ^ x[j]);
            x = cipher.AsSpan(i, 16).ToArray();
            y = outp.AsSpan(i, 16).ToArray();
        }
        return outp;
    }

    /// <summary>Minimal TL writer for the test side.</summary>
    internal sealed class Tl
    {
        private readonly List<byte> _b = [];

        public Tl U32(uint v)
        {
            Span<byte> s = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(s, v);
            _b.AddRange(s.ToArray());
            return this;
        }

        public Tl I32(int v) => U32((uint)v);

        public Tl I64(long v)
        {
            Span<byte> s = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(s, v);
            _b.AddRange(s.ToArray());
            return this;
        }

        public Tl Raw(byte[] v)
        {
            _b.AddRange(v);
            return this;
        }

        public Tl Str(byte[] v)
        {
            int start = _b.Count;
            if (v.Length < 254)
            {
                _b.Add((byte)v.Length);
            }
            else
            {
                _b.AddRange([254, (byte)v.Length, (byte)(v.Length >> 8), (byte)(v.Length >> 16)]);
            }
            _b.AddRange(v);
            while ((_b.Count - start) % 4 != 0) _b.Add(0);
            return this;
        }

        public byte[] ToArray() => [.. _b];
    }

    /// <summary>Minimal TL reader for the test side (throws on short data: tests only).</summary>
    internal sealed class TlIn(byte[] b)
    {
        public int Position { get; private set; }
        public bool AtEnd => Position == b.Length;

        public byte[] Raw(int n)
        {
            var r = b.AsSpan(Position, n).ToArray();
            Position += n;
            return r;
        }

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Raw(4));
        public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Raw(4));
        public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Raw(8));

        public byte[] Str()
        {
            int start = Position;
            int len = b[Position++];
            if (len == 254)
            {
                len = b[Position] | (b[Position + 1] << 8) | (b[Position + 2] << 16);
                Position += 3;
            }
            var r = Raw(len);
            while ((Position - start) % 4 != 0) Position++;
            return r;
        }
    }
}
