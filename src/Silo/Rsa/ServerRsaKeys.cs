using Microsoft.Extensions.Logging;
using MtActors.Protocol.Handshake;

namespace MtActors.Silo.Rsa;

/// <summary>Bad RSA key configuration (unreadable file, not RSA-2048, ...); the message names the file, never key bytes.</summary>
public sealed class RsaKeyConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One key the server serves: where it came from and what clients need (public PEM, fingerprint).</summary>
/// <param name="Fingerprint">MTProto fingerprint (SHA1 of the TL-serialized n and e, low 64 bits).</param>
/// <param name="PublicKeyPem">PKCS#1 PEM (<c>-----BEGIN RSA PUBLIC KEY-----</c>), the form clients pin.</param>
/// <param name="Source">The configured file, or the generated file under the key directory.</param>
/// <param name="Generated">True when MtActors generated this key on a first run.</param>
public sealed record ServerRsaKeyInfo(long Fingerprint, string PublicKeyPem, string Source, bool Generated)
{
    /// <summary>The fingerprint as 0x + 16 hex digits.</summary>
    public string FingerprintHex => RsaKeyFiles.Hex(Fingerprint);
}

/// <summary>
/// The server's RSA-2048 private keys for auth-key creation (resPQ advertises every fingerprint; req_DH_params may use
/// any of them, which is how keys are rotated). Loaded from the configured PEM files; with none configured, one key is
/// generated on the first run and kept in the key directory with owner-only permissions (0600), so every later start
/// (and every silo sharing that directory) serves the same key. The private key is never logged.
/// </summary>
public sealed partial class ServerRsaKeys : IDisposable
{
    private const int MaxGenerationAttempts = 256;

    private ServerRsaKeys(RsaKeySet keySet, IReadOnlyList<ServerRsaKeyInfo> keys, string? publicKeysFile)
    {
        KeySet = keySet;
        Keys = keys;
        PublicKeysFile = publicKeysFile;
    }

    /// <summary>The keys as the handshake uses them (owned by this object).</summary>
    public RsaKeySet KeySet { get; }

    /// <summary>The keys in configuration order (the first is the primary one).</summary>
    public IReadOnlyList<ServerRsaKeyInfo> Keys { get; }

    /// <summary>The public-key file written for the CLI, or null without a key directory.</summary>
    public string? PublicKeysFile { get; }

    /// <summary>
    /// Loads <paramref name="keyFiles"/> (PKCS#1 or PKCS#8 PEM private keys), or, when there are none, the generated key
    /// in <paramref name="keyDirectory"/> (created on the first run). Writes the public keys to
    /// <see cref="RsaKeyFiles.PublicKeysFileName"/> in the key directory when there is one, and logs them.
    /// </summary>
    /// <exception cref="RsaKeyConfigurationException">A key cannot be read or generated.</exception>
    public static ServerRsaKeys Load(IReadOnlyList<string> keyFiles, string? keyDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(keyFiles);
        ArgumentNullException.ThrowIfNull(logger);
        var keys = new List<RsaServerKey>();
        var infos = new List<ServerRsaKeyInfo>();
        try
        {
            if (keyFiles.Count > 0)
            {
                foreach (var file in keyFiles)
                {
                    var path = Path.GetFullPath(file);
                    var key = ReadKey(path);
                    keys.Add(key);
                    infos.Add(new ServerRsaKeyInfo(key.Fingerprint, key.ExportPublicKeyPem(), path, Generated: false));
                    WarnIfReadableByOthers(path, logger);
                }
            }
            else if (!string.IsNullOrWhiteSpace(keyDirectory))
            {
                var (key, path, generated) = LoadOrGenerate(Path.GetFullPath(keyDirectory), logger);
                keys.Add(key);
                infos.Add(new ServerRsaKeyInfo(key.Fingerprint, key.ExportPublicKeyPem(), path, generated));
            }
            else
            {
                throw new RsaKeyConfigurationException(
                    "No RSA key: configure MtActors:MtProto:RsaKeyFiles (PEM private keys) or a key directory for a generated key.");
            }

            RsaKeySet set;
            try
            {
                set = new RsaKeySet(keys);
            }
            catch (ArgumentException ex)
            {
                throw new RsaKeyConfigurationException("The configured RSA keys are not distinct: " + ex.Message, ex);
            }

            string? publicFile = null;
            if (!string.IsNullOrWhiteSpace(keyDirectory))
            {
                publicFile = RsaKeyFiles.PublicKeysPath(Path.GetFullPath(keyDirectory));
                try
                {
                    RsaKeyFiles.WritePublicKeys(publicFile, infos.Select(i => i.PublicKeyPem));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    LogPublicFileFailed(logger, ex, publicFile);
                    publicFile = null;
                }
            }

            for (var i = 0; i < infos.Count; i++)
            {
                var info = infos[i];
                LogKey(logger, i + 1, infos.Count, info.FingerprintHex, info.Fingerprint, info.Source, info.PublicKeyPem.Trim());
                if (!RsaKeyFiles.IsMtcuteCompatible(info.Fingerprint))
                {
                    LogMtcuteIncompatible(logger, info.FingerprintHex, info.Source);
                }
            }

            return new ServerRsaKeys(set, infos, publicFile);
        }
        catch
        {
            foreach (var k in keys)
            {
                k.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// A new RSA-2048 key (e = 65537) whose fingerprint's top byte is at least 0x10: mtcute 0.30 cannot find a key
    /// below that (real-clients.md §3.2), so about 1 key in 16 is thrown away and drawn again.
    /// </summary>
    public static RsaServerKey GenerateClientCompatible()
    {
        for (var attempt = 0; attempt < MaxGenerationAttempts; attempt++)
        {
            var key = RsaServerKey.Generate();
            if (RsaKeyFiles.IsMtcuteCompatible(key.Fingerprint))
            {
                return key;
            }

            key.Dispose();
        }

        throw new RsaKeyConfigurationException(
            $"No RSA key with a fingerprint top byte >= 0x10 in {MaxGenerationAttempts} attempts (15 in 16 keys pass).");
    }

    private static RsaServerKey ReadKey(string path)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RsaKeyConfigurationException($"Cannot read the RSA key file {path}: {ex.Message}", ex);
        }

        try
        {
            return RsaServerKey.FromPem(pem);
        }
        catch (ArgumentException ex)
        {
            throw new RsaKeyConfigurationException($"The RSA key file {path} is not usable: {ex.Message}", ex);
        }
    }

    private static (RsaServerKey Key, string Path, bool Generated) LoadOrGenerate(string keyDirectory, ILogger logger)
    {
        var path = RsaKeyFiles.PrivateKeyPath(keyDirectory);
        if (File.Exists(path))
        {
            WarnIfReadableByOthers(path, logger);
            return (ReadKey(path), path, false);
        }

        try
        {
            Directory.CreateDirectory(keyDirectory);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keyDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RsaKeyConfigurationException($"Cannot create the key directory {keyDirectory}: {ex.Message}", ex);
        }

        var key = GenerateClientCompatible();
        var temp = path + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temp, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(key.ExportPrivateKeyPem());
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another silo sharing this data directory generated its key first: serve that one.
                File.Delete(temp);
                key.Dispose();
                return (ReadKey(path), path, false);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            key.Dispose();
            TryDelete(temp);
            throw new RsaKeyConfigurationException($"Cannot store the generated RSA key in {path}: {ex.Message}", ex);
        }

        LogGenerated(logger, path);
        return (key, path, true);
    }

    private static void WarnIfReadableByOthers(string path, ILogger logger)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                                    UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        try
        {
            if ((File.GetUnixFileMode(path) & others) != 0)
            {
                LogKeyFileOpen(logger, path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Reading the key worked; the mode check is advisory.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // best effort
        }
    }

    /// <inheritdoc />
    public void Dispose() => KeySet.Dispose();

    [LoggerMessage(Level = LogLevel.Information,
        Message = "MTProto RSA key {Index}/{Count}: fingerprint {Fingerprint} ({FingerprintSigned}) from {Source}; give clients this public key:\n{PublicKeyPem}")]
    private static partial void LogKey(ILogger logger, int index, int count, string fingerprint, long fingerprintSigned,
        string source, string publicKeyPem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generated the server's RSA-2048 key in {Path} (mode 0600)")]
    private static partial void LogGenerated(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "RSA key file {Path} is readable by group or others: restrict it with chmod 600")]
    private static partial void LogKeyFileOpen(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "RSA key {Fingerprint} from {Source}: the fingerprint's top byte is below 0x10, so mtcute 0.30 cannot use it (it looks keys up by unpadded hex); generate another key for mtcute clients")]
    private static partial void LogMtcuteIncompatible(ILogger logger, string fingerprint, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot write the public key file {Path} for `mtactors rsa-key`")]
    private static partial void LogPublicFileFailed(ILogger logger, Exception ex, string path);
}
