using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using MtActors.Admin;
using MtActors.Silo.Hosting;

namespace MtActors.Silo.Http;

/// <summary>
/// Wires the HTTP API into the silo's WebApplication: <see cref="AddMtActorsHttpApi"/> before Build,
/// <see cref="MapMtActorsHttpApi"/> after. Routes (see docs/operations.md):
/// <list type="bullet">
/// <item><c>GET /api/v1/authkeys/{auth_key_id}</c>, <c>GET /api/v1/authkeys/{auth_key_id}/sessions</c>,
/// <c>GET|DELETE /api/v1/authkeys/{auth_key_id}/sessions/{session_id}</c>, <c>DELETE /api/v1/authkeys/{auth_key_id}</c>
/// (admin) — <c>Authorization: Bearer &lt;token&gt;</c>;</item>
/// <item><c>GET|POST /bot&lt;token&gt;/destroy_session?session_id=...</c>, <c>/get_session</c>, <c>/get_sessions</c>,
/// <c>/get_auth_key</c>, and the
/// same under <c>/user&lt;token&gt;/</c> — the token in the path, as in the Telegram-style HTTP APIs.</item>
/// </list>
/// </summary>
public static partial class HttpApiExtensions
{
    /// <summary>Name of the rate limiting policy of the API routes.</summary>
    public const string RateLimitPolicy = "mtactors-api";

    /// <summary>Tag of the API routes in the OpenAPI document.</summary>
    public const string OpenApiTag = "MtActors sessions";

    /// <summary>Registers the API's options (validated now), token table, rate limiter and OpenAPI document.</summary>
    /// <exception cref="SiloConfigurationException">The <c>MtActors:HttpApi</c> settings are invalid.</exception>
    public static WebApplicationBuilder AddMtActorsHttpApi(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(HttpApiOptions.SectionName);
        var problems = HttpApiOptionsValidator.Check(section.Get<HttpApiOptions>() ?? new());
        if (problems.Count > 0)
        {
            throw new SiloConfigurationException(problems);
        }

        var services = builder.Services;
        services.AddOptions<HttpApiOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HttpApiOptions>, HttpApiOptionsValidator>();
        services.AddSingleton<ApiCallers>();
        services.AddSingleton<HttpApiHandlers>();
        services.AddHostedService<HttpApiStartupCheck>();
        services.AddProblemDetails();
        // The response bodies are the shared JSON objects of MtActors.Admin: one shape with the CLI's --json.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AdminJsonContext.Default));
        services.AddOpenApi();

        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(RateLimitPolicy, Partition);
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var http = rejected.HttpContext;
                var o = http.RequestServices.GetRequiredService<IOptions<HttpApiOptions>>().Value.RateLimit;
                var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                    ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
                    : o.PeriodSeconds;
                http.Response.Headers[HeaderNames.RetryAfter] = seconds.ToString(CultureInfo.InvariantCulture);
                await Problems.TooManyRequests(
                        $"Rate limit exceeded: {o.Burst} requests at once, {o.RequestsPerPeriod} more every {o.PeriodSeconds} s. " +
                        $"Retry after {seconds} s.")
                    .ExecuteAsync(http);
            };
        });

        // The Telegram-style routes carry the token in the path. ASP.NET Core prints request paths in the request-start
        // lines (Microsoft.AspNetCore.Hosting.Diagnostics, Information/Debug), the route matcher's Debug lines and
        // Kestrel's bad-request Debug lines: those categories are held above the levels that print paths.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing.Matching", LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel.BadRequests", LogLevel.Information);
        return builder;
    }

    /// <summary>Maps the API routes, the rate limiter and the OpenAPI document (<c>/openapi/v1.json</c>).</summary>
    public static WebApplication MapMtActorsHttpApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<HttpApiOptions>>().Value;
        app.UseRateLimiter();
        app.MapOpenApi();
        if (!options.Enabled)
        {
            return app;
        }

        var api = app.MapGroup("/api/v1")
            .WithTags(OpenApiTag)
            .RequireRateLimiting(RateLimitPolicy)
            .AddEndpointFilter(new CallerFilter(requiredScope: null, adminOnly: false));
        api.MapGet("/authkeys/{authKeyId}",
                (HttpContext c, string authKeyId, [FromServices] HttpApiHandlers h) => h.ShowAuthKeyAsync(c, authKeyId))
            .WithName("GetAuthKey")
            .WithSummary("Shows an auth key: kind, creation time, expiry, number of live sessions (never key material).")
            .Produces<AuthKeyResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/authkeys/{authKeyId}/sessions",
                (HttpContext c, string authKeyId, [FromServices] HttpApiHandlers h) => h.ListSessionsAsync(c, authKeyId))
            .WithName("ListSessions")
            .WithSummary("Lists the live sessions of an auth key (bot and user tokens: their own key).")
            .Produces<AuthKeySessionsResponse>();
        api.MapGet("/authkeys/{authKeyId}/sessions/{sessionId}",
                (HttpContext c, string authKeyId, string sessionId, [FromServices] HttpApiHandlers h) =>
                    h.ShowSessionAsync(c, authKeyId, sessionId))
            .WithName("GetSession")
            .WithSummary("Shows a session.")
            .Produces<SessionResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/authkeys/{authKeyId}/sessions/{sessionId}",
                (HttpContext c, string authKeyId, string sessionId, [FromServices] HttpApiHandlers h) =>
                    h.DestroySessionAsync(c, authKeyId, sessionId))
            .WithName("DestroySession")
            .WithSummary("destroy_session: destroy_session_ok when the session existed, destroy_session_none otherwise.")
            .Produces<DestroySessionResponse>();
        api.MapDelete("/authkeys/{authKeyId}",
                (HttpContext c, string authKeyId, [FromServices] HttpApiHandlers h) => h.DestroyAuthKeyAsync(c, authKeyId))
            .WithName("DestroyAuthKey")
            .WithSummary("destroy_auth_key (admin): destroys every session of the key, then the key.")
            .Produces<DestroyAuthKeyResponse>()
            .AddEndpointFilter(new CallerFilter(requiredScope: null, adminOnly: true));
        AddProblems(api);

        MapTokenInPath(app, ApiScope.Bot);
        MapTokenInPath(app, ApiScope.User);
        return app;
    }

    /// <summary><c>/bot&lt;token&gt;/method?...</c> and <c>/user&lt;token&gt;/method?...</c>: GET or POST, parameters in the query.</summary>
    private static void MapTokenInPath(WebApplication app, ApiScope scope)
    {
        var prefix = ApiCallers.ScopeName(scope);
        // One route parameter holding "bot<token>" (a complex segment "bot{token}" fails when the token itself
        // contains "bot"); ApiCallers.TokenOf strips the prefix.
        var group = app.MapGroup($"/{{{ApiCallers.PathTokenParameter(scope)}:regex(^{prefix}.)}}")
            .WithTags(OpenApiTag)
            .RequireRateLimiting(RateLimitPolicy)
            .AddEndpointFilter(new CallerFilter(requiredScope: scope, adminOnly: false));
        string[] methods = [HttpMethods.Get, HttpMethods.Post];
        var suffix = scope == ApiScope.Bot ? "AsBot" : "AsUser";
        group.MapMethods("/destroy_session", methods,
                (HttpContext c, [FromQuery(Name = "session_id")] string? sessionId,
                        [FromQuery(Name = "auth_key_id")] string? authKeyId, [FromServices] HttpApiHandlers h) =>
                    h.DestroySessionAsync(c, authKeyId, sessionId))
            .WithName("DestroySession" + suffix)
            .WithSummary($"destroy_session as a {prefix}: a session of the token's auth key (auth_key_id optional, must be the token's).")
            .Produces<DestroySessionResponse>();
        group.MapMethods("/get_session", methods,
                (HttpContext c, [FromQuery(Name = "session_id")] string? sessionId,
                        [FromQuery(Name = "auth_key_id")] string? authKeyId, [FromServices] HttpApiHandlers h) =>
                    h.ShowSessionAsync(c, authKeyId, sessionId))
            .WithName("GetSession" + suffix)
            .WithSummary($"Shows a session of the {prefix} token's auth key.")
            .Produces<SessionResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapMethods("/get_sessions", methods,
                (HttpContext c, [FromQuery(Name = "auth_key_id")] string? authKeyId, [FromServices] HttpApiHandlers h) =>
                    h.ListSessionsAsync(c, authKeyId))
            .WithName("ListSessions" + suffix)
            .WithSummary($"Lists the live sessions of the {prefix} token's auth key.")
            .Produces<AuthKeySessionsResponse>();
        group.MapMethods("/get_auth_key", methods,
                (HttpContext c, [FromQuery(Name = "auth_key_id")] string? authKeyId, [FromServices] HttpApiHandlers h) =>
                    h.ShowAuthKeyAsync(c, authKeyId))
            .WithName("GetAuthKey" + suffix)
            .WithSummary($"Shows the {prefix} token's auth key.")
            .Produces<AuthKeyResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        AddProblems(group);
    }

    private static void AddProblems(RouteGroupBuilder group) => group
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status429TooManyRequests)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    /// <summary>One token bucket per known caller; requests without a known token share one per client address.</summary>
    private static RateLimitPartition<string> Partition(HttpContext context)
    {
        var o = context.RequestServices.GetRequiredService<IOptions<HttpApiOptions>>().Value.RateLimit;
        var caller = context.RequestServices.GetRequiredService<ApiCallers>().Resolve(context);
        var key = caller is not null ? "caller:" + caller.Name : "address:" + context.Connection.RemoteIpAddress;
        if (!o.Enabled)
        {
            return RateLimitPartition.GetNoLimiter(key);
        }

        return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = o.Burst,
            TokensPerPeriod = o.RequestsPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(o.PeriodSeconds),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    /// <summary>Logs, once at start, how many API callers are configured (names and scopes only).</summary>
    private sealed partial class HttpApiStartupCheck(
        ApiCallers callers, IOptions<HttpApiOptions> options, ILogger<HttpApiStartupCheck> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var o = options.Value;
            if (!o.Enabled)
            {
                LogDisabled(logger);
            }
            else if (callers.Count == 0)
            {
                LogNoTokens(logger, HttpApiOptions.SectionName);
            }
            else
            {
                LogTokens(logger, callers.Count,
                    string.Join(", ", o.Tokens.Select(t => $"{t.Key} ({t.Value.Scope?.ToLowerInvariant()})")),
                    o.RateLimit.Enabled ? $"{o.RateLimit.Burst} burst, {o.RateLimit.RequestsPerPeriod}/{o.RateLimit.PeriodSeconds}s" : "off");
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "HTTP API is off (MtActors:HttpApi:Enabled=false)")]
        private static partial void LogDisabled(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning,
            Message = "HTTP API: no tokens configured ({Section}:Tokens): every API request will be answered 401")]
        private static partial void LogNoTokens(ILogger logger, string section);

        [LoggerMessage(Level = LogLevel.Information, Message = "HTTP API: {Count} callers: {Callers}; rate limit {RateLimit}")]
        private static partial void LogTokens(ILogger logger, int count, string callers, string rateLimit);
    }
}
