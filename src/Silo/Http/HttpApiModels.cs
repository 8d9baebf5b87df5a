using System.Text.Json.Serialization;
using MtActors.Grains;

namespace MtActors.Silo.Http;

// JSON bodies of the HTTP API. Property names are snake_case like the MTProto schema; 64-bit ids are strings
// holding the signed decimal of the TL long (see Ids).

/// <summary>
/// The DestroySessionRes of the MTProto schema: <c>destroy_session_ok</c> or <c>destroy_session_none</c>
/// (the session did not exist, or was destroyed already).
/// </summary>
public sealed record DestroySessionResponse(
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("auth_key_id")] string AuthKeyId,
    [property: JsonPropertyName("session_id")] string SessionId)
{
    /// <summary><c>destroy_session_ok</c>.</summary>
    public const string Ok = "destroy_session_ok";

    /// <summary><c>destroy_session_none</c>.</summary>
    public const string None = "destroy_session_none";
}

/// <summary>The DestroyAuthKeyRes of the MTProto schema: <c>destroy_auth_key_ok</c> or <c>destroy_auth_key_none</c>.</summary>
public sealed record DestroyAuthKeyResponse(
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("auth_key_id")] string AuthKeyId);

/// <summary>The live sessions of one auth key (empty for an unknown key).</summary>
public sealed record SessionListResponse(
    [property: JsonPropertyName("auth_key_id")] string AuthKeyId,
    [property: JsonPropertyName("sessions")] IReadOnlyList<string> Sessions);

/// <summary>What the API shows of a session (no key material).</summary>
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
    internal static SessionResponse From(SessionInfo s) => new(
        Ids.Format(s.AuthKeyId), Ids.Format(s.SessionId), Ids.Format(s.UniqueId), s.CreatedAt, s.LastActivityAt,
        Ids.Format(s.FirstMsgId), Ids.Format(s.LastClientMsgId), Ids.Format(s.LastServerMsgId), s.ContentMessagesSent,
        Ids.Format(s.CurrentSalt));
}
