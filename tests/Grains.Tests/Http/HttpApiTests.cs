using System.Net;
using System.Text.Json;
using MtActors.Admin;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Grains.Tests.Tools;

namespace MtActors.Grains.Tests.Http;

/// <summary>The HTTP API of a real silo (Kestrel on loopback, grains on PostgreSQL), driven with HttpClient.</summary>
[Collection(HttpCollection.Name)]
public sealed class HttpApiTests(HttpFixture f)
{
    private HttpSilo Silo => f.Silo;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var problem = await JsonAsync(response, expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }

    [Fact]
    public async Task Destroy_with_a_bearer_token_answers_ok_then_none_and_deletes_the_row()
    {
        var session = await f.NewSessionAsync(f.BotKey);
        Assert.Equal(1, await Sql.SessionRowsAsync(Silo.ConnectionString, Silo.ServiceId, f.BotKey, session));
        var path = $"/api/v1/authkeys/{f.BotKey}/sessions/{session}";

        var first = await JsonAsync(await Silo.SendAsync(HttpMethod.Delete, path, HttpFixture.BotToken), HttpStatusCode.OK);
        JsonShapes.Assert(JsonShapes.DestroySession, first);
        Assert.Equal("destroy_session_ok", first.GetProperty("result").GetString());
        Assert.Equal(session.ToString(), first.GetProperty("session_id").GetString()); // int64 as a decimal string
        Assert.Equal(f.BotKey.ToString(), first.GetProperty("auth_key_id").GetString());
        Assert.Equal(0, await Sql.SessionRowsAsync(Silo.ConnectionString, Silo.ServiceId, f.BotKey, session));

        var second = await JsonAsync(await Silo.SendAsync(HttpMethod.Delete, path, HttpFixture.AdminToken), HttpStatusCode.OK);
        JsonShapes.Assert(JsonShapes.DestroySession, second);
        Assert.Equal("destroy_session_none", second.GetProperty("result").GetString());
        Assert.Null(await Silo.Grains.GetSessionGrain(f.BotKey, session).GetInfo());
    }

    [Fact]
    public async Task Destroy_as_a_bot_with_the_token_in_the_path_answers_ok_then_none()
    {
        var session = await f.NewSessionAsync(f.BotKey);
        var path = $"/bot{HttpFixture.BotToken}/destroy_session?session_id={Ids.Hex(session)}";

        var first = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, path), HttpStatusCode.OK);
        Assert.Equal("destroy_session_ok", first.GetProperty("result").GetString());
        Assert.Equal(session.ToString(), first.GetProperty("session_id").GetString());
        var second = await JsonAsync(await Silo.SendAsync(HttpMethod.Post, path + $"&auth_key_id={f.BotKey}"), HttpStatusCode.OK);
        Assert.Equal("destroy_session_none", second.GetProperty("result").GetString());
        Assert.Equal(0, await Sql.SessionRowsAsync(Silo.ConnectionString, Silo.ServiceId, f.BotKey, session));
    }

    [Fact]
    public async Task Destroy_as_a_user_with_the_token_in_the_path_answers_ok_then_none()
    {
        var session = await f.NewSessionAsync(f.UserKey);
        var path = $"/user{HttpFixture.UserToken}/destroy_session?session_id={session}";

        var first = await JsonAsync(await Silo.SendAsync(HttpMethod.Post, path), HttpStatusCode.OK);
        Assert.Equal("destroy_session_ok", first.GetProperty("result").GetString());
        var second = await JsonAsync(await Silo.SendAsync(HttpMethod.Post, path), HttpStatusCode.OK);
        Assert.Equal("destroy_session_none", second.GetProperty("result").GetString());
    }

    [Fact]
    public async Task Sessions_are_listed_and_shown_to_their_key_and_to_admin()
    {
        var s1 = await f.NewSessionAsync(f.UserKey);
        var s2 = await f.NewSessionAsync(f.UserKey);

        var list = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, $"/user{HttpFixture.UserToken}/get_sessions"), HttpStatusCode.OK);
        JsonShapes.Assert(JsonShapes.AuthKeySessions, list);
        Assert.Equal(f.UserKey, list.Id("auth_key_id"));
        var ids = list.IdArray("session_ids");
        Assert.Contains(s1, ids);
        Assert.Contains(s2, ids);
        Assert.Equal(ids.Length, list.GetProperty("count").GetInt32());
        var adminList = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{Ids.Hex(f.UserKey)}/sessions", HttpFixture.AdminToken), HttpStatusCode.OK);
        JsonShapes.Assert(JsonShapes.AuthKeySessions, adminList);
        Assert.Equal(ids.Order(), adminList.IdArray("session_ids").Order());

        var info = await Silo.Grains.GetSessionGrain(f.UserKey, s1).GetInfo();
        Assert.NotNull(info);
        var shown = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{f.UserKey}/sessions/{s1}", HttpFixture.UserToken), HttpStatusCode.OK);
        JsonShapes.Assert(JsonShapes.Session, shown);
        Assert.Equal(info.CreatedAt, shown.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(s1.ToString(), shown.GetProperty("session_id").GetString());
        Assert.Equal(info.UniqueId.ToString(), shown.GetProperty("unique_id").GetString());
        Assert.Equal(info.FirstMsgId.ToString(), shown.GetProperty("first_msg_id").GetString());
        var viaPath = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, $"/user{HttpFixture.UserToken}/get_session?session_id={s1}"), HttpStatusCode.OK);
        Assert.Equal(shown.GetRawText(), viaPath.GetRawText());

        var missing = await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{f.UserKey}/sessions/12345", HttpFixture.AdminToken), HttpStatusCode.NotFound);
        Assert.Contains("does not exist", missing.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Missing_or_unknown_tokens_are_401()
    {
        var path = $"/api/v1/authkeys/{f.BotKey}/sessions";
        var none = await Silo.SendAsync(HttpMethod.Get, path);
        var problem = await ProblemAsync(none, HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", problem.GetProperty("detail").GetString());
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);

        await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, path, "not-a-configured-token-000"), HttpStatusCode.Unauthorized);
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, path, HttpFixture.BotToken + "x"), HttpStatusCode.Unauthorized);
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, "/bot123456789:unknown-token-XXXXXXXX/destroy_session?session_id=1"), HttpStatusCode.Unauthorized);
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Post, $"/user{HttpFixture.UserToken[..^1]}/get_sessions"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Tokens_reach_only_their_own_key_and_scope_else_403()
    {
        var others = await f.NewSessionAsync(f.OtherKey);

        // A bot token on another bot's auth key: refused, and the session survives.
        var p = await ProblemAsync(await Silo.SendAsync(HttpMethod.Delete, $"/api/v1/authkeys/{f.OtherKey}/sessions/{others}", HttpFixture.BotToken), HttpStatusCode.Forbidden);
        Assert.Contains("farmbot", p.GetProperty("detail").GetString());
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.BotToken}/destroy_session?session_id={others}&auth_key_id={f.OtherKey}"), HttpStatusCode.Forbidden);
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{f.OtherKey}/sessions", HttpFixture.UserToken), HttpStatusCode.Forbidden);
        Assert.NotNull(await Silo.Grains.GetSessionGrain(f.OtherKey, others).GetInfo());

        // Route families take their own scope.
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.UserToken}/get_sessions"), HttpStatusCode.Forbidden);
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/user{HttpFixture.BotToken}/get_sessions"), HttpStatusCode.Forbidden);
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.AdminToken}/get_sessions"), HttpStatusCode.Forbidden);

        // Admin-only: destroying an auth key, even one's own.
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Delete, $"/api/v1/authkeys/{f.BotKey}", HttpFixture.BotToken), HttpStatusCode.Forbidden);
        await ProblemAsync(await Silo.SendAsync(HttpMethod.Delete, $"/api/v1/authkeys/{f.UserKey}", HttpFixture.UserToken), HttpStatusCode.Forbidden);
        Assert.NotNull(await Silo.Grains.GetAuthKeyGrain(f.BotKey).Get());

        // The other bot may.
        var ok = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.OtherBotToken}/destroy_session?session_id={others}"), HttpStatusCode.OK);
        Assert.Equal("destroy_session_ok", ok.GetProperty("result").GetString());
    }

    [Fact]
    public async Task Malformed_ids_are_400_with_a_message_naming_the_parameter()
    {
        var bad = await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.BotToken}/destroy_session?session_id=xyz"), HttpStatusCode.BadRequest);
        Assert.Equal("session_id 'xyz' is not a 64-bit id (decimal, or hex with 0x).", bad.GetProperty("detail").GetString());

        var tooLong = await ProblemAsync(await Silo.SendAsync(HttpMethod.Delete, $"/api/v1/authkeys/{f.BotKey}/sessions/0x1234567890abcdef1", HttpFixture.BotToken), HttpStatusCode.BadRequest);
        Assert.Contains("session_id '0x1234567890abcdef1' is not a 64-bit hex id", tooLong.GetProperty("detail").GetString());

        var overflow = await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, "/api/v1/authkeys/18446744073709551616/sessions", HttpFixture.AdminToken), HttpStatusCode.BadRequest);
        Assert.Equal("auth_key_id '18446744073709551616' is out of the 64-bit range (-9223372036854775808..18446744073709551615).", overflow.GetProperty("detail").GetString());

        var missing = await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.BotToken}/destroy_session"), HttpStatusCode.BadRequest);
        Assert.Contains("session_id is required", missing.GetProperty("detail").GetString());

        // Unsigned decimal and hex name the same 64 bits.
        var session = await f.NewSessionAsync(f.BotKey);
        var unsigned = unchecked((ulong)session).ToString();
        var ok = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.BotToken}/get_session?session_id={unsigned}"), HttpStatusCode.OK);
        Assert.Equal(session.ToString(), ok.GetProperty("session_id").GetString());
    }

    [Fact]
    public async Task Admin_destroys_an_auth_key_with_its_sessions_then_gets_none()
    {
        var (key, id) = TestData.NewKey();
        Assert.Equal(AuthKeyRegisterResult.Registered,
            await Silo.Grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, null)));
        var s1 = await f.NewSessionAsync(id);
        await f.NewSessionAsync(id);

        var first = await JsonAsync(await Silo.SendAsync(HttpMethod.Delete, $"/api/v1/authkeys/{Ids.Hex(id)}", HttpFixture.AdminToken), HttpStatusCode.OK);
        JsonShapes.Assert(JsonShapes.DestroyAuthKeyOk, first);
        Assert.Equal("destroy_auth_key_ok", first.GetProperty("result").GetString());
        Assert.Equal(id, first.Id("auth_key_id"));
        Assert.Equal(2, first.GetProperty("sessions_destroyed").GetInt32());
        Assert.Null(await Silo.Grains.GetAuthKeyGrain(id).Get());
        Assert.Equal(0, await Sql.SessionRowsAsync(Silo.ConnectionString, Silo.ServiceId, id, s1));
        var second = await JsonAsync(await Silo.SendAsync(HttpMethod.Delete, $"/api/v1/authkeys/{id}", HttpFixture.AdminToken), HttpStatusCode.OK);
        JsonShapes.Assert(JsonShapes.DestroyAuthKeyNone, second);
        Assert.Equal("destroy_auth_key_none", second.GetProperty("result").GetString());
    }

    [Fact]
    public async Task An_auth_key_is_shown_to_its_own_token_and_to_admin_never_with_key_material()
    {
        var session = await f.NewSessionAsync(f.UserKey);
        var info = await Silo.Grains.GetAuthKeyGrain(f.UserKey).Get();
        Assert.NotNull(info);
        var count = (await Silo.Grains.GetAuthKeyGrain(f.UserKey).GetSessionIds()).Length;
        Assert.True(count >= 1, $"session {session} is not listed");

        var shown = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{f.UserKey}", HttpFixture.UserToken), HttpStatusCode.OK);
        JsonShapes.Assert(JsonShapes.AuthKey, shown);
        Assert.Equal(f.UserKey, shown.Id("auth_key_id"));
        Assert.Equal("permanent", shown.GetProperty("kind").GetString());
        Assert.Equal(info.CreatedAt, shown.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, shown.GetProperty("expires_at").ValueKind);
        Assert.Equal(count, shown.GetProperty("session_count").GetInt32());
        Assert.DoesNotContain(Convert.ToHexString(info.Key.AsSpan(0, 8)), shown.GetRawText(), StringComparison.OrdinalIgnoreCase);

        var viaPath = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, $"/user{HttpFixture.UserToken}/get_auth_key"), HttpStatusCode.OK);
        Assert.Equal(shown.GetRawText(), viaPath.GetRawText());
        var asAdmin = await JsonAsync(await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{Ids.Hex(f.UserKey)}", HttpFixture.AdminToken), HttpStatusCode.OK);
        Assert.Equal(shown.GetRawText(), asAdmin.GetRawText());

        await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{f.UserKey}", HttpFixture.BotToken), HttpStatusCode.Forbidden);
        var unknown = TestData.NewKey().Id;
        var missing = await ProblemAsync(await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{unknown}", HttpFixture.AdminToken), HttpStatusCode.NotFound);
        Assert.Contains("does not exist", missing.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Metrics_show_the_MtActors_instruments_after_a_destroy()
    {
        const string name = "mtactors_destroy_session_total";
        var okBefore = await Silo.MetricAsync(name, ("result", "destroy_session_ok"), ("source", "http"));
        var noneBefore = await Silo.MetricAsync(name, ("result", "destroy_session_none"), ("source", "http"));
        var createdBefore = await Silo.MetricAsync("mtactors_sessions_created_total");
        var session = await f.NewSessionAsync(f.BotKey);
        var path = $"/bot{HttpFixture.BotToken}/destroy_session?session_id={session}";
        await JsonAsync(await Silo.SendAsync(HttpMethod.Get, path), HttpStatusCode.OK);
        await JsonAsync(await Silo.SendAsync(HttpMethod.Get, path), HttpStatusCode.OK);

        var response = await Silo.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(okBefore + 1, PrometheusText.Value(text, name, ("result", "destroy_session_ok"), ("source", "http")));
        Assert.Equal(noneBefore + 1, PrometheusText.Value(text, name, ("result", "destroy_session_none"), ("source", "http")));
        Assert.Contains("# TYPE mtactors_destroy_session_total counter", text);
        // The grains' instruments on the same meter (process-wide counters: other tests may add to them).
        Assert.True(PrometheusText.Value(text, "mtactors_sessions_created_total") >= createdBefore + 1);
        Assert.True(PrometheusText.Value(text, "mtactors_grain_activations_total", ("grain", "session")) >= 1);
        Assert.True(PrometheusText.Value(text, "mtactors_storage_write_duration_seconds_count", ("grain", "session"), ("result", "ok")) >= 1);
        Assert.Contains("# TYPE mtactors_sessions_active gauge", text);
        // (Orleans' meter is exported too, but it is not asserted here: the test process hosts many silos whose
        // same-named meters come and go, and OpenTelemetry drops the duplicates' streams.)
    }

    [Fact]
    public async Task Health_endpoints_answer_while_the_silo_is_up()
    {
        var live = await JsonAsync(await Silo.Http.GetAsync("/health/live"), HttpStatusCode.OK);
        Assert.Equal("Healthy", live.GetProperty("status").GetString());
        var ready = await JsonAsync(await Silo.Http.GetAsync("/health/ready"), HttpStatusCode.OK);
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("orleans").GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("postgresql").GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_OpenAPI_document_lists_every_route()
    {
        var doc = await JsonAsync(await Silo.Http.GetAsync("/openapi/v1.json"), HttpStatusCode.OK);
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var expected in (string[])[
                     "/api/v1/authkeys/{authKeyId}/sessions", "/api/v1/authkeys/{authKeyId}/sessions/{sessionId}",
                     "/api/v1/authkeys/{authKeyId}", "/{bot_token}/destroy_session", "/{bot_token}/get_session",
                     "/{bot_token}/get_sessions", "/{bot_token}/get_auth_key", "/{user_token}/destroy_session",
                     "/{user_token}/get_session", "/{user_token}/get_sessions", "/{user_token}/get_auth_key"])
        {
            Assert.Contains(expected, paths);
        }

        var destroy = doc.GetProperty("paths").GetProperty("/api/v1/authkeys/{authKeyId}/sessions/{sessionId}").GetProperty("delete");
        Assert.Equal("DestroySession", destroy.GetProperty("operationId").GetString());
        Assert.True(destroy.GetProperty("responses").TryGetProperty("403", out _));
    }

    [Fact]
    public async Task No_token_reaches_a_log_line()
    {
        // Requests with every token, in the path and in the header, ok and refused.
        var session = await f.NewSessionAsync(f.BotKey);
        await Silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.BotToken}/destroy_session?session_id={session}");
        await Silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.UserToken}/get_sessions");
        await Silo.SendAsync(HttpMethod.Get, $"/user{HttpFixture.UserToken}/get_sessions");
        await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{f.OtherKey}/sessions", HttpFixture.OtherBotToken);
        await Silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{f.OtherKey}/sessions", HttpFixture.AdminToken);

        var lines = Silo.Logs.Lines.ToList();
        Assert.Contains(lines, l => l.Contains("farmbot (bot) destroyed session", StringComparison.Ordinal)); // logging works
        foreach (var token in (string[])[HttpFixture.AdminToken, HttpFixture.BotToken, HttpFixture.UserToken, HttpFixture.OtherBotToken])
        {
            var leaks = lines.Where(l => l.Contains(token.Split(':')[^1], StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, "a token in the logs: " + string.Join("\n", leaks));
        }
    }
}
