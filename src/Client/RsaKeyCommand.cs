using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MtActors.Silo.Options;
using MtActors.Silo.Rsa;

namespace MtActors.Client;

/// <summary>
/// <c>mtactors rsa-key</c>: the local silo's MTProto public key(s) for clients, read from the file the silo writes at
/// every start (&lt;data directory&gt;/mtproto/server-rsa-public.pem). The PEM goes to stdout (redirect it to a file
/// for a client), the fingerprints to stderr; with --json both go to stdout. Needs no running cluster.
/// </summary>
internal static class RsaKeyCommand
{
    public static Command Create(Option<string?> dataDir, Option<bool> json, TextWriter output, TextWriter error)
    {
        var command = new Command("rsa-key",
            "Print the local silo's MTProto RSA public key (PKCS#1 PEM, what clients pin) and its fingerprint");
        command.SetAction(async (parse, _) =>
        {
            var path = "";
            IReadOnlyList<RsaPublicKeyEntry> keys;
            try
            {
                path = RsaKeyFiles.PublicKeysPath(RsaKeyFiles.DirectoryIn(DataDirectories.Resolve(parse.GetValue(dataDir))));
                keys = RsaKeyFiles.ReadPublicKeys(path);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                await error.WriteLineAsync(
                    $"error: {path} does not exist: start the silo once (it generates or loads its key and writes this file), " +
                    "or give its --data-dir");
                return ExitCodes.NotFound;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException
                                           or InvalidOperationException)
            {
                await error.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Failure;
            }

            if (parse.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var k in keys)
                {
                    array.Add(new JsonObject
                    {
                        ["fingerprint"] = k.FingerprintHex,
                        ["fingerprintSigned"] = k.Fingerprint.ToString(CultureInfo.InvariantCulture),
                        ["pem"] = k.Pem,
                    });
                }

                await output.WriteLineAsync(new JsonObject { ["file"] = path, ["keys"] = array }
                    .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return ExitCodes.Ok;
            }

            for (var i = 0; i < keys.Count; i++)
            {
                var k = keys[i];
                await error.WriteLineAsync(
                    $"key {i + 1}/{keys.Count}: fingerprint {k.FingerprintHex} (signed {k.Fingerprint.ToString(CultureInfo.InvariantCulture)}), from {path}");
                await output.WriteLineAsync(k.Pem.Trim());
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
