using System.Runtime.Intrinsics;

namespace MtActors.Protocol.Crypto;

/// <summary>
/// An AES-256-IGE key expanded once (both directions) for repeated use, e.g. one per handshake or
/// per long-lived key. Not thread-safe on the fallback path; cheap to create.
/// <see cref="Dispose"/> wipes the round keys.
/// </summary>
public sealed class AesIgeCipher : IDisposable
{
    private AesRoundKeys _enc;
    private AesRoundKeys _dec;
    private readonly int _rounds;
    private readonly AesEcbFallback? _fallback;

    /// <param name="key">32 bytes.</param>
    public AesIgeCipher(ReadOnlySpan<byte> key) : this(key, forceFallback: false, allowAes128: false) { }

    /// <summary>Tests: force the portable path, or use AES-128 keys to check the IGE chaining against OpenSSL's vectors.</summary>
    internal AesIgeCipher(ReadOnlySpan<byte> key, bool forceFallback, bool allowAes128)
    {
        if (key.Length != 32 && !(allowAes128 && key.Length == 16))
            throw new ArgumentException("AES-256 needs a 32-byte key.", nameof(key));
        if (AesNi.IsSupported && !forceFallback)
        {
            _rounds = AesNi.ExpandKey(key, ref _enc);
            AesNi.InvertKey(ref _enc, ref _dec, _rounds);
        }
        else
        {
            _fallback = new AesEcbFallback(key);
        }
    }

    /// <summary>True when the instance runs on AES-NI.</summary>
    public bool IsHardwareAccelerated => _fallback is null;

    /// <summary>Encrypts whole 16-byte blocks; in place allowed.</summary>
    public void Encrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        AesIge.CheckData(iv, source, destination);
        if (_fallback is null) AesNi.IgeEncrypt(ref _enc, _rounds, iv, source, destination);
        else _fallback.IgeEncrypt(iv, source, destination);
    }

    /// <summary>Decrypts whole 16-byte blocks; in place allowed.</summary>
    public void Decrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        AesIge.CheckData(iv, source, destination);
        if (_fallback is null) AesNi.IgeDecrypt(ref _dec, _rounds, iv, source, destination);
        else _fallback.IgeDecrypt(iv, source, destination);
    }

    public void Dispose()
    {
        AesIge.Clear(ref _enc);
        AesIge.Clear(ref _dec);
        _fallback?.Dispose();
    }
}
