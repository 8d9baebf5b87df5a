using System.Text.Json;
using System.Text.Json.Serialization;
using MtActors.Grains;

namespace MtActors.Admin;

// The JSON objects operators see, one shape for both the mtactors CLI (--json) and the silo's HTTP API
// (docs/operations.md, "JSON objects"). Property names are snake_case like the MTProto schema; 64-bit ids are strings
// holding the signed decimal of the TL long (Ids.Format), because JavaScript numbers lose precision above 2^53; times
// are ISO 8601 with their UTC offset. Destroy answers carry the TL constructor name in "result".

/// <summary>The names of the MTProto answers to destroy_session and destroy_auth_key.</summary>
public static class DestroyResults
{
    public const string SessionOk = "destroy_session_ok";
    public const string SessionNone = "destroy_session_none";
    public const string AuthKeyOk = "destroy_auth_key_ok";
    public const string AuthKeyNone = "destroy_auth_key_none";
    public const string AuthKeyFail = "destroy_auth_key_fail";

    /// <summary>destroy_session_ok when the session existed, destroy_session_none otherwise.</summary>
    public static string Of(bool sessionExisted) => sessionExisted ? SessionOk : SessionNone;

    /// <summary>The DestroyAuthKeyRes constructor of <paramref name="outcome"/>.</summary>
    public static string Of(DestroyAuthKeyResult outcome) => outcome switch
    {
        DestroyAuthKeyResult.Ok => AuthKeyOk,
        DestroyAuthKeyResult.None => AuthKeyNone,
        _ => AuthKeyFail,
    };
}

/// <summary>
/// The DestroySessionRes of the MTProto schema: <c>destroy_session_ok</c>, or <c>destroy_session_none</c> when the
/// session did not exist (or was destroyed already).
/// </summary>
public sealed record DestroySessionResponse(
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("auth_key_id")] string AuthKeyId,
    [property: JsonPropertyName("session_id")] string SessionId)
{
    public static DestroySessionResponse From(long authKeyId, long sessionId, bool existed) =>
        new(DestroyResults.Of(existed), Ids.Format(authKeyId), Ids.Format(sessionId));
}

/// <summary>
/// The DestroyAuthKeyRes of the MTProto schema: <c>destroy_auth_key_ok</c>, <c>destroy_auth_key_none</c> (no such key)
/// or <c>destroy_auth_key_fail</c>. <see cref="SessionsDestroyed"/>: with ok, how many live sessions the key had.
/// </summary>
public sealed record DestroyAuthKeyResponse(
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("auth_key_id")] string AuthKeyId,
    [property: JsonPropertyName("sessions_destroyed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    int? SessionsDestroyed)
{
    public static DestroyAuthKeyResponse From(long authKeyId, DestroyAuthKeyResult outcome, int sessionsBefore) =>
        new(DestroyResults.Of(outcome), Ids.Format(authKeyId), outcome == DestroyAuthKeyResult.Ok ? sessionsBefore : null);
}

/// <summary>An auth key as tools show it: never key material.</summary>
public sealed record AuthKeyResponse(
    [property: JsonPropertyName("auth_key_id")] string AuthKeyId,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("expires_at")] DateTimeOffset? ExpiresAt,
    [property: JsonPropertyName("session_count")] int SessionCount)
{
    /// <summary><c>permanent</c> or <c>temporary</c>.</summary>
    public static string KindName(AuthKeyKind kind) => kind == AuthKeyKind.Temporary ? "temporary" : "permanent";

    public static AuthKeyResponse From(AuthKeyInfo key, int sessionCount) =>
        new(Ids.Format(key.AuthKeyId), KindName(key.Kind), key.CreatedAt, key.ExpiresAt, sessionCount);
}

/// <summary>The ids of an auth key's live sessions (as the key records them).</summary>
public sealed record AuthKeySessionsResponse(
    [property: JsonPropertyName("auth_key_id")] string AuthKeyId,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("session_ids")] IReadOnlyList<string> SessionIds)
{
    public static AuthKeySessionsResponse From(long authKeyId, IReadOnlyCollection<long> sessionIds) =>
        new(Ids.Format(authKeyId), sessionIds.Count, [.. sessionIds.Select(Ids.Format)]);
}

/// <summary>What tools show of a session (no key material).</summary>
public sealed record SessionResponse(
    [property: JsonPropertyName("auth_key_id")] string AuthKeyId,
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("unique_id")] string UniqueId,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("last_activity_at")] DateTimeOffset LastActivityAt,
    [property: JsonPropertyName("first_msg_id")] string FirstMsgId,
    [property: JsonPropertyName("last_client_msg_id")] string LastClientMsgId,
    [property: JsonPropertyName("last_server_msg_id")] string LastServerMsgId,
    [property: JsonPropertyName("content_messages_sent")] int ContentMessagesSent,
    [property: JsonPropertyName("current_salt")] string CurrentSalt)
{
    public static SessionResponse From(SessionInfo s) => new(
        Ids.Format(s.AuthKeyId), Ids.Format(s.SessionId), Ids.Format(s.UniqueId), s.CreatedAt, s.LastActivityAt,
        Ids.Format(s.FirstMsgId), Ids.Format(s.LastClientMsgId), Ids.Format(s.LastServerMsgId), s.ContentMessagesSent,
        Ids.Format(s.CurrentSalt));
}

/// <summary>One stored session row: its ids and when the row was last written.</summary>
public sealed record StoredSessionResponse(
    [property: JsonPropertyName("auth_key_id")] string AuthKeyId,
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("last_write_at")] DateTimeOffset LastWriteAt)
{
    public static StoredSessionResponse From(long authKeyId, long sessionId, DateTimeOffset lastWriteAt) =>
        new(Ids.Format(authKeyId), Ids.Format(sessionId), lastWriteAt.ToUniversalTime());
}

/// <summary>
/// A page of stored sessions in the stable order (auth key id, then session id). <see cref="AuthKeyId"/>: the key
/// asked for, null for all; <see cref="Page"/>: null when the page starts <see cref="After"/> a cursor;
/// <see cref="Page"/> and <see cref="PageSize"/>: null for all pages at once (session list --all);
/// <see cref="NextCursor"/>: where the next page starts, null on the last one.
/// </summary>
public sealed record StoredSessionPageResponse(
    [property: JsonPropertyName("auth_key_id")] string? AuthKeyId,
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("page")] int? Page,
    [property: JsonPropertyName("page_size")] int? PageSize,
    [property: JsonPropertyName("after")] string? After,
    [property: JsonPropertyName("sessions")] IReadOnlyList<StoredSessionResponse> Sessions,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("next_cursor")] string? NextCursor);

/// <summary>The serializer of the JSON objects above, shared by the CLI and the HTTP API.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.General)]
[JsonSerializable(typeof(DestroySessionResponse))]
[JsonSerializable(typeof(DestroyAuthKeyResponse))]
[JsonSerializable(typeof(AuthKeyResponse))]
[JsonSerializable(typeof(AuthKeySessionsResponse))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(StoredSessionResponse))]
[JsonSerializable(typeof(StoredSessionPageResponse))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
