using System.Security.Cryptography;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Handshake.Native;

namespace MtActors.Protocol.Client.Handshake;

/// <summary>
/// A server's RSA-2048 public key as an MTProto client pins it: n, e and the fingerprint
/// SHA1(TLbytes(n) || TLbytes(e))[12..20) (spec §6.6). <see cref="EncryptRaw"/> is the raw RSA operation
/// m^e mod n (no PKCS#1 padding) the key exchange uses, on OpenSSL's BIGNUM code. Thread-safe.
/// </summary>
public sealed class RsaPublicKey : IDisposable
{
    public const int ModulusBytes = 256;

    private readonly byte[] _modulus;
    private readonly byte[] _exponent;
    private readonly MontgomeryModulus _n;

    /// <param name="modulus">n, unsigned big-endian (a leading zero byte is allowed); must be 2048 bits.</param>
    /// <param name="exponent">e, unsigned big-endian.</param>
    public RsaPublicKey(ReadOnlySpan<byte> modulus, ReadOnlySpan<byte> exponent)
    {
        _modulus = Trim(modulus).ToArray();
        _exponent = Trim(exponent).ToArray();
        if (_modulus.Length != ModulusBytes || (_modulus[0] & 0x80) == 0)
        {
            throw new ArgumentException("MTProto needs an RSA public key of exactly 2048 bits.", nameof(modulus));
        }
        if (_exponent.Length == 0 || (_exponent.Length == 1 && _exponent[0] == 1))
        {
            throw new ArgumentException("The RSA public exponent must be greater than 1.", nameof(exponent));
        }
        _n = new MontgomeryModulus(_modulus);
        Fingerprint = RsaServerKey.ComputeFingerprint(_modulus, _exponent);
    }

    /// <summary>The key's fingerprint as the int64 sent in resPQ / req_DH_params.</summary>
    public long Fingerprint { get; }

    /// <summary>n, minimal big-endian (a copy).</summary>
    public byte[] Modulus => (byte[])_modulus.Clone();

    /// <summary>e, minimal big-endian (a copy).</summary>
    public byte[] Exponent => (byte[])_exponent.Clone();

    /// <summary>
    /// Reads a public key from PEM: PKCS#1 "RSA PUBLIC KEY" (the form MTProto clients pin) or SubjectPublicKeyInfo
    /// "PUBLIC KEY". A private key PEM is accepted too (only its public half is used).
    /// </summary>
    /// <exception cref="ArgumentException">No RSA key in the text, or not 2048 bits.</exception>
    public static RsaPublicKey FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new ArgumentException("The text holds no readable RSA key in PEM form: " + ex.Message, nameof(pem), ex);
        }
        var prm = rsa.ExportParameters(includePrivateParameters: false);
        return new RsaPublicKey(prm.Modulus, prm.Exponent);
    }

    /// <summary>True when the 256-byte big-endian value is below n (a valid RSA input).</summary>
    public bool IsBelowModulus(ReadOnlySpan<byte> value256) =>
        value256.Length == ModulusBytes && value256.SequenceCompareTo(_modulus) < 0;

    /// <summary>c = m^e mod n, exactly 256 big-endian bytes. <paramref name="message"/> must be 256 bytes and below n.</summary>
    public void EncryptRaw(ReadOnlySpan<byte> message, Span<byte> ciphertext)
    {
        if (message.Length != ModulusBytes || ciphertext.Length != ModulusBytes)
        {
            throw new ArgumentException($"RSA input and output are {ModulusBytes} bytes.");
        }
        if (!IsBelowModulus(message)) throw new ArgumentException("The RSA input must be below the modulus.", nameof(message));
        _n.ModPow(message, _exponent, ciphertext, secretExponent: false);
    }

    public override string ToString() => $"RSA-2048 public key, fingerprint 0x{(ulong)Fingerprint:x16}";

    public void Dispose() => _n.Dispose();

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value)
    {
        int i = 0;
        while (i < value.Length && value[i] == 0) i++;
        return value[i..];
    }
}
