using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using MtActors.Silo.Rsa;

namespace MtActors.Client.Commands;

/// <summary>
/// <c>rsa-key</c>: the local silo's MTProto public key(s) for clients, read from the file the silo writes at every start
/// (&lt;data directory&gt;/mtproto/server-rsa-public.pem). The PEM goes to stdout (redirect it to a file for a client),
/// the fingerprints to stderr; with --json both go to stdout. Needs no running cluster.
/// </summary>
internal static class RsaKeyCommand
{
    public static void Add(Command root, CommandContext context)
    {
        var command = context.Command("rsa-key",
            "Print the local silo's MTProto RSA public key (PKCS#1 PEM, what clients pin; the first one is the primary " +
            "key when several are served) on stdout and its fingerprint on stderr. Reads <data-dir>/mtproto/" +
            RsaKeyFiles.PublicKeysFileName + ", which the silo writes at every start; no cluster connection is needed. " +
            "Exit code 4 when that file does not exist (the silo never started with this data directory).",
            [],
            "mtactors rsa-key > server-rsa.pem                # the PEM for GramJS / mtcute",
            "mtactors rsa-key --json --data-dir /var/lib/mtactors");
        context.Action(command, async inv =>
        {
            var path = RsaKeyFiles.PublicKeysPath(RsaKeyFiles.DirectoryIn(inv.DataDirectory));
            IReadOnlyList<RsaPublicKeyEntry> keys;
            try
            {
                keys = RsaKeyFiles.ReadPublicKeys(path);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new CliException(ExitCodes.NotFound,
                    $"{path} does not exist: start the silo once (it generates or loads its key and writes this file), " +
                    "or give its --data-dir");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                throw new CliException(ExitCodes.Failure, ex.Message, ex);
            }

            if (inv.Json)
            {
                await inv.WriteJsonAsync(new JsonObject
                {
                    ["file"] = path,
                    ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)new JsonObject
                    {
                        ["fingerprint"] = k.FingerprintHex,
                        ["fingerprint_signed"] = k.Fingerprint.ToString(CultureInfo.InvariantCulture),
                        ["pem"] = k.Pem.Trim() + "\n",
                    })]),
                });
                return ExitCodes.Ok;
            }

            for (var i = 0; i < keys.Count; i++)
            {
                var k = keys[i];
                await inv.Err.WriteLineAsync(
                    $"key {i + 1}/{keys.Count}: fingerprint {k.FingerprintHex} (signed {k.Fingerprint.ToString(CultureInfo.InvariantCulture)}), from {path}");
                await inv.Out.WriteLineAsync(k.Pem.Trim());
            }

            return ExitCodes.Ok;
        });
        root.Subcommands.Add(command);
    }
}
