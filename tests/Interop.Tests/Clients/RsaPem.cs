using System.Buffers.Binary;
using System.Security.Cryptography;
using MtActors.Protocol.Tl;

namespace MtActors.Interop.Tests.Clients;

/// <summary>
/// The server's RSA public key as the drivers take it: a PKCS#1 PEM file (<c>-----BEGIN RSA PUBLIC KEY-----</c>)
/// in a temp directory, deleted on dispose. Pass <see cref="Path"/> as <see cref="ClientOptions.RsaKeyPath"/>.
/// </summary>
/// <remarks>
/// mtcute requirement (real-clients.md §3.2): it indexes keys by zero-padded hex but looks them up unpadded, so a key
/// whose fingerprint's top byte is below 0x10 is never found and the handshake fails with "Could not find server public
/// key". Test keys handed to mtcute must satisfy <see cref="IsMtcuteCompatible"/>; <see cref="CreateClientCompatibleKey"/>
/// generates such a key (1 in 16 random keys fails the rule). mtcute.mjs refuses an incompatible key with a clear error.
/// </remarks>
public sealed class RsaPem : IDisposable
{
    private RsaPem(string path, long fingerprint)
    {
        Path = path;
        Fingerprint = fingerprint;
    }

    /// <summary>The PEM file.</summary>
    public string Path { get; }

    /// <summary>MTProto fingerprint: int64 LE of SHA1(TL bytes(n) + TL bytes(e))[12..20].</summary>
    public long Fingerprint { get; }

    /// <summary>Writes <paramref name="rsa"/>'s public key as PKCS#1 PEM to a fresh temp file.</summary>
    public static RsaPem Write(RSA rsa)
    {
        ArgumentNullException.ThrowIfNull(rsa);
        string dir = Directory.CreateTempSubdirectory("mtactors-interop-rsa-").FullName;
        string path = System.IO.Path.Combine(dir, "server-rsa-public.pem");
        File.WriteAllText(path, rsa.ExportRSAPublicKeyPem());
        return new RsaPem(path, ComputeFingerprint(rsa.ExportParameters(includePrivateParameters: false)));
    }

    /// <summary>MTProto RSA key fingerprint of a public key.</summary>
    public static long ComputeFingerprint(RSAParameters publicKey)
    {
        byte[] n = publicKey.Modulus ?? throw new ArgumentException("No modulus.", nameof(publicKey));
        byte[] e = publicKey.Exponent ?? throw new ArgumentException("No exponent.", nameof(publicKey));
        using var w = new TlWriter(n.Length + e.Length + 16);
        w.WriteBytes(StripLeadingZeros(n));
        w.WriteBytes(StripLeadingZeros(e));
        Span<byte> sha = stackalloc byte[20];
        SHA1.HashData(w.WrittenSpan, sha);
        return BinaryPrimitives.ReadInt64LittleEndian(sha[12..]);
    }

    /// <summary>True when mtcute can find the key by this fingerprint (its top byte is at least 0x10).</summary>
    public static bool IsMtcuteCompatible(long fingerprint) => (ulong)fingerprint >> 56 >= 0x10;

    /// <summary>A new RSA-2048 key (e = 65537) that both GramJS and mtcute accept.</summary>
    public static RSA CreateClientCompatibleKey()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            RSA rsa = RSA.Create(2048);
            if (IsMtcuteCompatible(ComputeFingerprint(rsa.ExportParameters(false)))) return rsa;
            rsa.Dispose();
        }
        throw new InvalidOperationException("No mtcute-compatible RSA key in 200 attempts (expected 15/16 to pass).");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(System.IO.Path.GetDirectoryName(Path)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static ReadOnlySpan<byte> StripLeadingZeros(byte[] value)
    {
        int i = 0;
        while (i < value.Length - 1 && value[i] == 0) i++;
        return value.AsSpan(i);
    }
}
