using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using MtActors.Protocol.Crypto;

namespace MtActors.Benchmarks;

/// <summary>
/// AES-256-IGE (this project, AES-NI) against the platform's AES-256-CBC (System.Security.Cryptography,
/// same key, reused Aes instance). Goal: IGE / CBC throughput >= 0.9, i.e. Ratio <= 1.11.
/// "PerCall" expands the key on every call, as the message hot path does; "Expanded" reuses an
/// <see cref="AesIgeCipher"/>.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class IgeVsCbc
{
    private byte[] _key = null!, _iv32 = null!, _iv16 = null!, _plain = null!, _cipherIge = null!, _cipherCbc = null!, _out = null!;
    private System.Security.Cryptography.Aes _aes = null!;
    private AesIgeCipher _ige = null!;

    [Params(64, 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _key = RandomNumberGenerator.GetBytes(32);
        _iv32 = RandomNumberGenerator.GetBytes(32);
        _iv16 = _iv32[..16];
        _plain = RandomNumberGenerator.GetBytes(Size);
        _out = new byte[Size];
        _aes = System.Security.Cryptography.Aes.Create();
        _aes.Key = _key;
        _ige = new AesIgeCipher(_key);
        _cipherIge = new byte[Size];
        AesIge.Encrypt(_key, _iv32, _plain, _cipherIge);
        _cipherCbc = _aes.EncryptCbc(_plain, _iv16, PaddingMode.None);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _aes.Dispose();
        _ige.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Encrypt")]
    public int CbcEncrypt() => _aes.EncryptCbc(_plain, _iv16, _out, PaddingMode.None);

    [Benchmark, BenchmarkCategory("Encrypt")]
    public void IgeEncryptPerCall() => AesIge.Encrypt(_key, _iv32, _plain, _out);

    [Benchmark, BenchmarkCategory("Encrypt")]
    public void IgeEncryptExpanded() => _ige.Encrypt(_iv32, _plain, _out);

    [Benchmark(Baseline = true), BenchmarkCategory("Decrypt")]
    public int CbcDecrypt() => _aes.DecryptCbc(_cipherCbc, _iv16, _out, PaddingMode.None);

    [Benchmark, BenchmarkCategory("Decrypt")]
    public void IgeDecryptPerCall() => AesIge.Decrypt(_key, _iv32, _cipherIge, _out);

    [Benchmark, BenchmarkCategory("Decrypt")]
    public void IgeDecryptExpanded() => _ige.Decrypt(_iv32, _cipherIge, _out);
}

/// <summary>
/// One MTProto 2.0 message encrypted by the server (x = 8) and decrypted by the client, against the
/// bare primitives the same work needs: per direction SHA-256 for msg_key over key slice + plaintext,
/// two SHA-256 of 52 bytes for the KDF, and AES-256-IGE with its key expansion. Goal: Ratio <= 1.2.
/// The baseline hashes with <see cref="Sha256"/>, the hash the message path itself uses; the variants with .NET's
/// reused <see cref="IncrementalHash"/> and one-shot <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/>
/// show what the message would cost on .NET's SHA-256 (the difference is the EVP layer's per-hash overhead).
/// </summary>
[MemoryDiagnoser]
public class MessageVsPrimitives
{
    private AuthKey _key = null!;
    private MessageHeader _header;
    private byte[] _body = null!, _frame = null!, _plain = null!;
    private byte[] _hashInput = null!, _kdfA = null!, _kdfB = null!, _aesKey = null!, _aesIv = null!, _igeData = null!, _igeOut = null!, _digest = null!;

    [Params(64, 1024)]
    public int BodySize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _key = new AuthKey(RandomNumberGenerator.GetBytes(256));
        _header = new MessageHeader(0x0102030405060708, 0x1112131415161718, 0x65ABC0FC00000401, 1);
        _body = RandomNumberGenerator.GetBytes(BodySize);
        int length = MessageCipher.GetEncryptedLength(BodySize);
        _frame = new byte[length];
        _plain = new byte[length - MessageCipher.ExternalHeaderLength];

        int plainLength = length - MessageCipher.ExternalHeaderLength;
        _hashInput = RandomNumberGenerator.GetBytes(32 + plainLength);
        _kdfA = RandomNumberGenerator.GetBytes(52);
        _kdfB = RandomNumberGenerator.GetBytes(52);
        _aesKey = RandomNumberGenerator.GetBytes(32);
        _aesIv = RandomNumberGenerator.GetBytes(32);
        _igeData = RandomNumberGenerator.GetBytes(plainLength);
        _igeOut = new byte[plainLength];
        _digest = new byte[32];
    }

    [Benchmark]
    public int EncryptAndDecrypt()
    {
        MessageCipher.Encrypt(_key, MessageSender.Server, _header, _body, _frame);
        return (int)MessageCipher.Decrypt(_key, MessageSender.Server, _frame, _plain, out _);
    }

    [Benchmark(Baseline = true)]
    public void SumOfPrimitives()
    {
        for (int direction = 0; direction < 2; direction++)
        {
            Sha256.Hash(_hashInput, default, _digest); // msg_key_large over key slice || plaintext
            Sha256.Hash(_kdfA, default, _digest);      // sha256_a
            Sha256.Hash(_kdfB, default, _digest);      // sha256_b
            if (direction == 0) AesIge.Encrypt(_aesKey, _aesIv, _igeData, _igeOut);
            else AesIge.Decrypt(_aesKey, _aesIv, _igeData, _igeOut);
        }
    }

    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    [Benchmark]
    public void SumOfPrimitivesIncrementalSha()
    {
        for (int direction = 0; direction < 2; direction++)
        {
            _sha.AppendData(_hashInput);
            _sha.GetHashAndReset(_digest);
            _sha.AppendData(_kdfA);
            _sha.GetHashAndReset(_digest);
            _sha.AppendData(_kdfB);
            _sha.GetHashAndReset(_digest);
            if (direction == 0) AesIge.Encrypt(_aesKey, _aesIv, _igeData, _igeOut);
            else AesIge.Decrypt(_aesKey, _aesIv, _igeData, _igeOut);
        }
    }

    [Benchmark]
    public void SumOfPrimitivesOneShotSha()
    {
        for (int direction = 0; direction < 2; direction++)
        {
            SHA256.HashData(_hashInput, _digest);   // msg_key_large over key slice || plaintext
            SHA256.HashData(_kdfA, _digest);        // sha256_a
            SHA256.HashData(_kdfB, _digest);        // sha256_b
            if (direction == 0) AesIge.Encrypt(_aesKey, _aesIv, _igeData, _igeOut);
            else AesIge.Decrypt(_aesKey, _aesIv, _igeData, _igeOut);
        }
    }
}

/// <summary>AES-256-CTR keystream throughput (transport obfuscation), in place.</summary>
[MemoryDiagnoser]
public class CtrThroughput
{
    private AesCtr _ctr = null!;
    private byte[] _data = null!;

    [Params(64, 1024, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ctr = new AesCtr(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(16));
        _data = RandomNumberGenerator.GetBytes(Size);
    }

    [GlobalCleanup]
    public void Cleanup() => _ctr.Dispose();

    [Benchmark]
    public void Transform() => _ctr.Transform(_data);
}
