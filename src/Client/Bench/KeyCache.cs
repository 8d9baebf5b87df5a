using System.Text.Json;
using System.Text.Json.Nodes;
using MtActors.Protocol.Crypto;

namespace MtActors.Client.Bench;

/// <summary>One cached auth key: created with <paramref name="Server"/> (host:port) whose RSA key has <paramref name="Fingerprint"/>.</summary>
internal sealed record CachedKey(string Server, long Fingerprint, AuthKey Key, long Salt, DateTimeOffset Created);

/// <summary>
/// The bench's key cache: auth keys made by earlier runs, so repeated runs skip the key exchanges. A JSON file readable
/// by its owner only (it holds key material); keys are matched by server address and RSA fingerprint.
/// </summary>
internal static class KeyCache
{
    public static List<CachedKey> Load(string path)
    {
        if (!File.Exists(path)) return [];
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Usage, $"the key cache {path} is not valid JSON ({ex.Message}); delete it or pick another --key-cache");
        }
        var keys = new List<CachedKey>();
        if (root?["keys"] is not JsonArray array) return keys;
        foreach (var node in array)
        {
            try
            {
                var hex = node!["auth_key"]!.GetValue<string>();
                var bytes = Convert.FromHexString(hex);
                if (bytes.Length != AuthKey.Length) continue;
                keys.Add(new CachedKey(
                    node["server"]!.GetValue<string>(),
                    Convert.ToInt64(node["fingerprint"]!.GetValue<string>(), 16),
                    new AuthKey(bytes),
                    node["salt"]?.GetValue<long>() ?? 0,
                    DateTimeOffset.Parse(node["created"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException or NullReferenceException or OverflowException)
            {
                // an entry we cannot read is skipped (and dropped on the next save)
            }
        }
        return keys;
    }

    public static void Save(string path, IEnumerable<CachedKey> keys)
    {
        var array = new JsonArray();
        foreach (var k in keys)
        {
            array.Add(new JsonObject
            {
                ["server"] = k.Server,
                ["fingerprint"] = $"{(ulong)k.Fingerprint:x16}",
                ["auth_key_id"] = $"{(ulong)k.Key.Id:x16}",
                ["auth_key"] = Convert.ToHexString(k.Key.Key),
                ["salt"] = k.Salt,
                ["created"] = k.Created.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        var text = new JsonObject { ["version"] = 1, ["keys"] = array }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }
        File.Move(temp, path, overwrite: true);
    }
}
