using System.Security.Cryptography;
using System.Text;
using MtActors.Protocol.Handshake;

namespace MtActors.Silo.Rsa;

/// <summary>One public key of the server as clients need it: PKCS#1 PEM and MTProto fingerprint.</summary>
internal sealed record RsaPublicKeyEntry(string Pem, long Fingerprint)
{
    /// <summary>The fingerprint as 16 hex digits (what mtcute and tdlib print).</summary>
    public string FingerprintHex => RsaKeyFiles.Hex(Fingerprint);
}

/// <summary>
/// Where the server's RSA keys live under the data directory, and the public-key file the silo writes at every start
/// for the mtactors CLI (<c>mtactors rsa-key</c>). Shared as a linked source file by the silo and the CLI; BCL and
/// Protocol only.
/// </summary>
internal static class RsaKeyFiles
{
    /// <summary>Sub-directory of the data directory for the MTProto keys.</summary>
    public const string DirectoryName = "mtproto";

    /// <summary>The generated private key (PKCS#8 PEM, mode 0600), used when no key file is configured.</summary>
    public const string PrivateKeyFileName = "server-rsa-key.pem";

    /// <summary>Every public key the silo serves (PKCS#1 PEM blocks, first = primary), rewritten at every start.</summary>
    public const string PublicKeysFileName = "server-rsa-public.pem";

    /// <summary>The key directory inside a data directory.</summary>
    public static string DirectoryIn(string dataDirectory) => Path.Combine(dataDirectory, DirectoryName);

    /// <summary>Path of the public-key file in a key directory.</summary>
    public static string PublicKeysPath(string keyDirectory) => Path.Combine(keyDirectory, PublicKeysFileName);

    /// <summary>Path of the generated private key in a key directory.</summary>
    public static string PrivateKeyPath(string keyDirectory) => Path.Combine(keyDirectory, PrivateKeyFileName);

    /// <summary>
    /// mtcute 0.30 indexes its keys by zero-padded hex but looks them up unpadded, so it never finds a key whose
    /// fingerprint's top byte is below 0x10 (real-clients.md §3.2). Generated keys always pass this rule.
    /// </summary>
    public static bool IsMtcuteCompatible(long fingerprint) => (ulong)fingerprint >> 56 >= 0x10;

    /// <summary>Fingerprint as 0x + 16 hex digits.</summary>
    public static string Hex(long fingerprint) => $"0x{(ulong)fingerprint:x16}";

    /// <summary>Writes the public keys (PKCS#1 PEM blocks) atomically, readable by everyone (it holds no secret).</summary>
    public static void WritePublicKeys(string path, IEnumerable<string> publicKeyPems)
    {
        var text = new StringBuilder();
        foreach (var pem in publicKeyPems)
        {
            text.Append(pem.Trim()).Append('\n');
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Reads every PEM public key of <paramref name="path"/> with its fingerprint.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file holds no readable public key.</exception>
    public static IReadOnlyList<RsaPublicKeyEntry> ReadPublicKeys(string path)
    {
        var text = File.ReadAllText(path);
        var keys = new List<RsaPublicKeyEntry>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var pem = rest[fields.Location].ToString();
            try
            {
                keys.Add(new RsaPublicKeyEntry(pem, RsaServerKey.ComputeFingerprint(pem)));
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                throw new InvalidDataException($"{path} holds a PEM block that is not an RSA public key: {ex.Message}", ex);
            }

            rest = rest[fields.Location.End..];
        }

        return keys.Count > 0 ? keys : throw new InvalidDataException($"{path} holds no PEM public key.");
    }
}
