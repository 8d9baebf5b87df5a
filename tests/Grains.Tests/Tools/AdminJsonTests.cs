using System.Text.Json;
using MtActors.Admin;

namespace MtActors.Grains.Tests.Tools;

/// <summary>The shared JSON objects as <see cref="AdminJsonContext"/> writes them (the CLI; the HTTP API uses it too).</summary>
public sealed class AdminJsonTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 28, 12, 30, 15, 250, TimeSpan.Zero);

    private static JsonElement Write<TValue>(TValue value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TValue> type) =>
        JsonDocument.Parse(JsonSerializer.Serialize(value, type)).RootElement;

    [Fact]
    public void Destroy_session_answers_carry_the_constructor_name_and_string_ids()
    {
        var ok = Write(DestroySessionResponse.From(-8603657889541918977, 42, existed: true), AdminJsonContext.Default.DestroySessionResponse);
        Assert.Equal("""{"result":"destroy_session_ok","auth_key_id":"-8603657889541918977","session_id":"42"}""", ok.GetRawText());
        var none = Write(DestroySessionResponse.From(1, 2, existed: false), AdminJsonContext.Default.DestroySessionResponse);
        JsonShapes.Assert(JsonShapes.DestroySession, none);
        Assert.Equal("destroy_session_none", none.GetProperty("result").GetString());
    }

    [Theory]
    [InlineData(DestroyAuthKeyResult.Ok, "destroy_auth_key_ok")]
    [InlineData(DestroyAuthKeyResult.None, "destroy_auth_key_none")]
    [InlineData(DestroyAuthKeyResult.Fail, "destroy_auth_key_fail")]
    public void Destroy_auth_key_answers_count_sessions_only_when_ok(DestroyAuthKeyResult outcome, string result)
    {
        var json = Write(DestroyAuthKeyResponse.From(long.MinValue, outcome, 3), AdminJsonContext.Default.DestroyAuthKeyResponse);
        JsonShapes.Assert(outcome == DestroyAuthKeyResult.Ok ? JsonShapes.DestroyAuthKeyOk : JsonShapes.DestroyAuthKeyNone, json);
        Assert.Equal(result, json.GetProperty("result").GetString());
        Assert.Equal("-9223372036854775808", json.GetProperty("auth_key_id").GetString());
    }

    [Fact]
    public void Session_has_every_counter_with_ids_as_strings_and_iso_times()
    {
        var info = new SessionInfo(1, 2, long.MaxValue, T, T.AddSeconds(1), 7, 8, 9, 10, -11);
        var json = Write(SessionResponse.From(info), AdminJsonContext.Default.SessionResponse);
        JsonShapes.Assert(JsonShapes.Session, json);
        Assert.Equal("9223372036854775807", json.GetProperty("unique_id").GetString());
        Assert.Equal("-11", json.GetProperty("current_salt").GetString());
        Assert.Equal(10, json.GetProperty("content_messages_sent").GetInt32());
        Assert.Equal(T, json.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal("2026-11-28T12:30:15.25+00:00", json.GetProperty("created_at").GetString());
    }

    [Fact]
    public void Auth_key_never_has_key_material_and_a_permanent_key_has_a_null_expiry()
    {
        var key = new AuthKeyInfo(5, new byte[256], AuthKeyKind.Permanent, T, null);
        var json = Write(AuthKeyResponse.From(key, 3), AdminJsonContext.Default.AuthKeyResponse);
        JsonShapes.Assert(JsonShapes.AuthKey, json);
        Assert.Equal("permanent", json.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("expires_at").ValueKind);
        Assert.Equal(3, json.GetProperty("session_count").GetInt32());

        var temporary = Write(AuthKeyResponse.From(key with { Kind = AuthKeyKind.Temporary, ExpiresAt = T }, 0),
            AdminJsonContext.Default.AuthKeyResponse);
        Assert.Equal("temporary", temporary.GetProperty("kind").GetString());
        Assert.Equal(T, temporary.GetProperty("expires_at").GetDateTimeOffset());
    }

    [Fact]
    public void Auth_key_sessions_list_string_ids_and_their_count()
    {
        var json = Write(AuthKeySessionsResponse.From(5, [-1, 2]), AdminJsonContext.Default.AuthKeySessionsResponse);
        JsonShapes.Assert(JsonShapes.AuthKeySessions, json);
        Assert.Equal(2, json.GetProperty("count").GetInt32());
        Assert.Equal(["-1", "2"], json.GetProperty("session_ids").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    [Fact]
    public void Stored_session_pages_have_nulls_where_nothing_applies()
    {
        var page = new StoredSessionPageResponse(null, 1, 1, 50, null,
            [StoredSessionResponse.From(-1, 2, T.ToOffset(TimeSpan.FromHours(2)))], 1, null);
        var json = Write(page, AdminJsonContext.Default.StoredSessionPageResponse);
        JsonShapes.Assert(JsonShapes.StoredSessionPage, json);
        var row = Assert.Single(json.GetProperty("sessions").EnumerateArray());
        JsonShapes.Assert(JsonShapes.StoredSession, row);
        Assert.Equal("2026-11-28T12:30:15.25+00:00", row.GetProperty("last_write_at").GetString()); // in UTC
        Assert.Equal(JsonValueKind.Null, json.GetProperty("auth_key_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("next_cursor").ValueKind);
    }
}
