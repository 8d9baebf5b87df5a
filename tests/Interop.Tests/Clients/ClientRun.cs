using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MtActors.Interop.Tests.Clients;

/// <summary>
/// The outcome of one driver run: exit code, the parsed JSON result line, and stderr for diagnostics.
/// The line looks like <c>{"ok":true,"client":"gramjs","steps":[...],"result":{...},"trace":{"in":[...],"out":[...]},...}</c>
/// or <c>{"ok":false,"error":"...","failedStep":"..."}</c>; <see cref="Result"/> is its <c>result</c> object
/// (scenario-specific fields such as <c>authKeyId</c>, <c>rpcError</c>, <c>destroy</c>).
/// </summary>
public sealed record ClientRun(
    string Client,
    IReadOnlyList<string> Arguments,
    int? ExitCode,
    bool KilledOnTimeout,
    TimeSpan Elapsed,
    string Stdout,
    string Stderr,
    JsonElement? Line)
{
    /// <summary>The script said ok and exited 0.</summary>
    public bool Ok => ExitCode == 0 && Line is { } l && l.TryGetProperty("ok", out JsonElement ok) && ok.ValueKind == JsonValueKind.True;

    /// <summary>The script's own error text, or why there is no result line.</summary>
    public string? Error =>
        Line is { } l && l.TryGetProperty("error", out JsonElement e) ? e.GetString()
        : KilledOnTimeout ? "killed: the driver did not exit before the runner's hard timeout"
        : Line is null ? "no JSON result line on stdout"
        : null;

    /// <summary>The scenario's <c>result</c> object (empty object when missing).</summary>
    public JsonElement Result =>
        Line is { } l && l.TryGetProperty("result", out JsonElement r) ? r : EmptyObject;

    /// <summary>The <c>trace</c> object: <c>in</c> (received and local events) and <c>out</c> (sent messages).</summary>
    public JsonElement Trace =>
        Line is { } l && l.TryGetProperty("trace", out JsonElement t) ? t : EmptyObject;

    /// <summary>Auth key id as the server sees it (int64 LE of sha1(key)[12..20]); null when none was reported.</summary>
    public long? AuthKeyId =>
        Result.TryGetProperty("authKeyId", out JsonElement v) && v.ValueKind == JsonValueKind.String
            ? long.Parse(v.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
            : null;

    /// <summary>Length of the key the client holds: 255 when it hit the minimal-bytes bug (real-clients.md §5.1).</summary>
    public int? AuthKeyLength =>
        Result.TryGetProperty("authKeyLength", out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    /// <summary>A string field of <see cref="Result"/> by dotted path (e.g. <c>destroy.answer</c>), or null.</summary>
    public string? Get(string path)
    {
        JsonElement cur = Result;
        foreach (string part in path.Split('.'))
        {
            if (cur.ValueKind != JsonValueKind.Object || !cur.TryGetProperty(part, out cur)) return null;
        }
        return cur.ValueKind switch
        {
            JsonValueKind.String => cur.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => cur.GetRawText(),
        };
    }

    /// <summary>Throws with the full story (command, exit code, error, result line, stderr tail) unless <see cref="Ok"/>.</summary>
    public ClientRun EnsureOk()
    {
        if (!Ok) throw new ClientRunFailedException(Describe());
        return this;
    }

    /// <summary>Human-readable summary for assertion messages.</summary>
    public string Describe(int stderrTail = 6000)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Client} {string.Join(' ', Arguments)}\n");
        sb.Append(CultureInfo.InvariantCulture, $"exit code: {(ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none")}{(KilledOnTimeout ? " (killed on hard timeout)" : "")}, {Elapsed.TotalMilliseconds:F0} ms\n");
        if (Error is { } err) sb.Append("error: ").Append(err).Append('\n');
        sb.Append("result line: ").Append(Line is { } l ? l.GetRawText() : Truncate(Stdout, 4000)).Append('\n');
        sb.Append("stderr (tail):\n").Append(Tail(Stderr, stderrTail));
        return sb.ToString();
    }

    public override string ToString() => Describe(2000);

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private static string Tail(string s, int max) => s.Length <= max ? s : "..." + s[^max..];

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "...";
}

/// <summary>A driver run that did not end with ok; the message carries the driver's stderr.</summary>
public sealed class ClientRunFailedException(string message) : Exception(message);
