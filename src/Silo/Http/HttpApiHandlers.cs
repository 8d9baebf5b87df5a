using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MtActors.Admin;
using MtActors.Grains;
using MtActors.Grains.Observability;

namespace MtActors.Silo.Http;

/// <summary>
/// The operations of the HTTP API, shared by both route styles (<c>/api/v1/...</c> with a bearer token and
/// <c>/bot&lt;token&gt;/...</c>, <c>/user&lt;token&gt;/...</c>). Each checks the ids (400), then the caller's reach (403),
/// then asks the grains. The caller is already authenticated by <see cref="CallerFilter"/>.
/// </summary>
public sealed partial class HttpApiHandlers(IGrainFactory grains, ILogger<HttpApiHandlers> logger)
{
    /// <summary>Lists the live sessions of an auth key (empty for an unknown key).</summary>
    public async Task<IResult> ListSessionsAsync(HttpContext context, string? authKeyIdText)
    {
        if (!TryResolveKey(context, authKeyIdText, out _, out var authKeyId, out var problem))
        {
            return problem;
        }

        var ids = await grains.GetAuthKeyGrain(authKeyId).GetSessionIds();
        return TypedResults.Ok(AuthKeySessionsResponse.From(authKeyId, ids));
    }

    /// <summary>Shows an auth key (kind, times, number of live sessions; never key material); 404 when unknown.</summary>
    public async Task<IResult> ShowAuthKeyAsync(HttpContext context, string? authKeyIdText)
    {
        if (!TryResolveKey(context, authKeyIdText, out _, out var authKeyId, out var problem))
        {
            return problem;
        }

        var grain = grains.GetAuthKeyGrain(authKeyId);
        var key = await grain.Get();
        return key is null
            ? Problems.NotFound($"Auth key {Ids.Hex(authKeyId)} does not exist (never registered, destroyed, or expired).")
            : TypedResults.Ok(AuthKeyResponse.From(key, (await grain.GetSessionIds()).Length));
    }

    /// <summary>Shows one session; 404 when it does not exist.</summary>
    public async Task<IResult> ShowSessionAsync(HttpContext context, string? authKeyIdText, string? sessionIdText)
    {
        if (!TryResolveKey(context, authKeyIdText, out _, out var authKeyId, out var problem) ||
            !TryParseSession(sessionIdText, out var sessionId, out problem))
        {
            return problem;
        }

        var info = await grains.GetSessionGrain(authKeyId, sessionId).GetInfo();
        return info is null
            ? Problems.NotFound($"Session {Ids.Hex(sessionId)} of auth key {Ids.Hex(authKeyId)} does not exist.")
            : TypedResults.Ok(SessionResponse.From(info));
    }

    /// <summary>
    /// destroy_session: deletes the session's state and deactivates it. Answers <c>destroy_session_ok</c> when it
    /// existed, <c>destroy_session_none</c> otherwise (so a repeated call answers none).
    /// </summary>
    public async Task<IResult> DestroySessionAsync(HttpContext context, string? authKeyIdText, string? sessionIdText)
    {
        if (!TryResolveKey(context, authKeyIdText, out var caller, out var authKeyId, out var problem) ||
            !TryParseSession(sessionIdText, out var sessionId, out problem))
        {
            return problem;
        }

        var existed = await grains.GetSessionGrain(authKeyId, sessionId).Destroy();
        MtActorsMetrics.DestroySession(existed, MtActorsMetrics.Sources.Http);
        var response = DestroySessionResponse.From(authKeyId, sessionId, existed);
        LogDestroySession(logger, caller.Name, caller.ScopeName, Ids.Hex(authKeyId), Ids.Hex(sessionId), response.Result);
        return TypedResults.Ok(response);
    }

    /// <summary>destroy_auth_key (admin): destroys every session of the key, then the key.</summary>
    public async Task<IResult> DestroyAuthKeyAsync(HttpContext context, string? authKeyIdText)
    {
        if (!TryResolveKey(context, authKeyIdText, out var caller, out var authKeyId, out var problem))
        {
            return problem;
        }

        var grain = grains.GetAuthKeyGrain(authKeyId);
        var before = (await grain.GetSessionIds()).Length;
        var outcome = await grain.DestroyAuthKey();
        var response = DestroyAuthKeyResponse.From(authKeyId, outcome, before);
        MtActorsMetrics.DestroyAuthKey(response.Result["destroy_auth_key_".Length..], MtActorsMetrics.Sources.Http);
        LogDestroyAuthKey(logger, caller.Name, Ids.Hex(authKeyId), response.Result);
        return outcome == DestroyAuthKeyResult.Fail
            ? Problems.Unavailable($"destroy_auth_key_fail: auth key {Ids.Hex(authKeyId)} could not be destroyed now (storage error); retry.")
            : TypedResults.Ok(response);
    }

    /// <summary>
    /// The auth key a request is about: the given id (400 when malformed, 403 outside the caller's reach) or, when
    /// none is given, the key the caller's token is bound to (400 for admin tokens, which have none).
    /// </summary>
    private static bool TryResolveKey(HttpContext context, string? text, out ApiCaller caller, out long authKeyId, out IResult problem)
    {
        caller = CallerFilter.CallerOf(context);
        problem = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            if (caller.AuthKeyId is { } bound)
            {
                authKeyId = bound;
                return true;
            }

            authKeyId = 0;
            problem = Problems.BadRequest("auth_key_id is required (a 64-bit id: decimal, or hex with 0x).");
            return false;
        }

        if (!Ids.TryParse("auth_key_id", text, out authKeyId, out var error))
        {
            problem = Problems.BadRequest(error + ".");
            return false;
        }

        if (!caller.MayAccess(authKeyId))
        {
            problem = Problems.Forbidden(
                $"The {caller.ScopeName} token '{caller.Name}' may only reach its own auth key, not {Ids.Hex(authKeyId)}.");
            return false;
        }

        return true;
    }

    private static bool TryParseSession(string? text, out long sessionId, out IResult problem)
    {
        problem = null!;
        if (Ids.TryParse("session_id", text, out sessionId, out var error))
        {
            return true;
        }

        problem = Problems.BadRequest(error + ".");
        return false;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "HTTP API: {Caller} ({Scope}) destroyed session {SessionId} of auth key {AuthKeyId}: {Result}")]
    private static partial void LogDestroySession(ILogger logger, string caller, string scope, string authKeyId,
        string sessionId, string result);

    [LoggerMessage(Level = LogLevel.Warning, Message = "HTTP API: {Caller} destroyed auth key {AuthKeyId}: {Result}")]
    private static partial void LogDestroyAuthKey(ILogger logger, string caller, string authKeyId, string result);
}

/// <summary>RFC 9457 problem details of the API.</summary>
internal static class Problems
{
    public static IResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");

    public static IResult Unauthorized(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");

    public static IResult Forbidden(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    public static IResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static IResult TooManyRequests(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");

    public static IResult Unavailable(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable");
}
