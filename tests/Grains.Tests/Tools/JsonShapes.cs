using System.Text.Json;

namespace MtActors.Grains.Tests.Tools;

/// <summary>
/// The JSON objects the mtactors CLI (--json) and the HTTP API share (docs/operations.md, "JSON objects"), written
/// out field by field: the CLI tests and the HTTP API tests both check their output against these lists, so a field
/// renamed, added or reordered on one side fails.
/// </summary>
internal static class JsonShapes
{
    public static readonly string[] Session =
    [
        "auth_key_id", "session_id", "unique_id", "created_at", "last_activity_at", "first_msg_id", "last_client_msg_id",
        "last_server_msg_id", "content_messages_sent", "current_salt",
    ];

    public static readonly string[] AuthKey = ["auth_key_id", "kind", "created_at", "expires_at", "session_count"];

    public static readonly string[] AuthKeySessions = ["auth_key_id", "count", "session_ids"];

    public static readonly string[] DestroySession = ["result", "auth_key_id", "session_id"];

    /// <summary>destroy_auth_key_ok; _none and _fail have no sessions_destroyed.</summary>
    public static readonly string[] DestroyAuthKeyOk = ["result", "auth_key_id", "sessions_destroyed"];

    public static readonly string[] DestroyAuthKeyNone = ["result", "auth_key_id"];

    public static readonly string[] StoredSessionPage =
        ["auth_key_id", "total", "page", "page_size", "after", "sessions", "count", "next_cursor"];

    public static readonly string[] StoredSession = ["auth_key_id", "session_id", "last_write_at"];

    /// <summary>The fields that hold 64-bit ids: always JSON strings with the signed decimal.</summary>
    private static readonly HashSet<string> IdFields =
    [
        "auth_key_id", "session_id", "unique_id", "first_msg_id", "last_client_msg_id", "last_server_msg_id",
        "current_salt",
    ];

    /// <summary>
    /// <paramref name="json"/> has exactly the fields <paramref name="expected"/>, in that order, and its ids are
    /// decimal strings.
    /// </summary>
    public static void Assert(string[] expected, JsonElement json)
    {
        Xunit.Assert.Equal(expected, json.EnumerateObject().Select(p => p.Name).ToArray());
        foreach (var p in json.EnumerateObject().Where(p => IdFields.Contains(p.Name) && p.Value.ValueKind != JsonValueKind.Null))
        {
            Xunit.Assert.True(p.Value.ValueKind == JsonValueKind.String && long.TryParse(p.Value.GetString(), out _),
                $"{p.Name} is not a decimal string: {p.Value.GetRawText()}");
        }
    }

    /// <summary>The id in field <paramref name="name"/> (a decimal string).</summary>
    public static long Id(this JsonElement json, string name)
    {
        var value = json.GetProperty(name);
        Xunit.Assert.Equal(JsonValueKind.String, value.ValueKind);
        return long.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The ids of a JSON array of decimal strings.</summary>
    public static long[] IdArray(this JsonElement json, string name) =>
        [.. json.GetProperty(name).EnumerateArray().Select(e => long.Parse(e.GetString()!, System.Globalization.CultureInfo.InvariantCulture))];
}
