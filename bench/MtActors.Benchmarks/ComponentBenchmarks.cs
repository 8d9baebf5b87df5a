using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using MtActors.Protocol.Crypto;

namespace MtActors.Benchmarks;

/// <summary>Costs of the pieces of the message path, to see where time goes.</summary>
[MemoryDiagnoser]
public class Components
{
    private readonly byte[] _in52 = RandomNumberGenerator.GetBytes(52);
    private readonly byte[] _in1k = RandomNumberGenerator.GetBytes(1088);
    private readonly byte[] _digest = new byte[32];
    private readonly byte[] _pad = new byte[20];
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    [Benchmark] public int Sha256OneShot52() => SHA256.HashData(_in52, _digest);
    [Benchmark] public int Sha256Incremental52() { _sha.AppendData(_in52); return _sha.GetHashAndReset(_digest); }
    [Benchmark] public void Sha256Native52() => Sha256.Hash(_in52, default, _digest);
    [Benchmark] public void Sha256Native1k() => Sha256.Hash(_in1k, default, _digest);
    [Benchmark] public int Sha256OneShot1k() => SHA256.HashData(_in1k, _digest);
    [Benchmark] public int Sha256Incremental1k() { _sha.AppendData(_in1k); return _sha.GetHashAndReset(_digest); }
    [Benchmark] public void RandomFill20() => RandomNumberGenerator.Fill(_pad);

    [Benchmark]
    public void ExpandKeyBothDirections()
    {
        AesRoundKeys enc = default, dec = default;
        AesNi.ExpandKey(_key, ref enc);
        AesNi.InvertKey(ref enc, ref dec, 14);
    }
}
