using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace MtActors.Silo.Http;

/// <summary>
/// Authenticates every API request (401 without a known token) and checks the token's scope against the route
/// (403): <c>/bot&lt;token&gt;</c> takes bot tokens, <c>/user&lt;token&gt;</c> user tokens, <c>/api/v1</c> any token,
/// admin-only routes admin tokens. A failure of the cluster behind a request becomes 503, never a stack trace.
/// </summary>
internal sealed partial class CallerFilter(ApiScope? requiredScope, bool adminOnly) : IEndpointFilter
{
    private const string ItemKey = "MtActors.AuthenticatedCaller";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var callers = context.RequestServices.GetRequiredService<ApiCallers>();
        var caller = callers.Resolve(context);
        if (caller is null)
        {
            if (requiredScope is null)
            {
                context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
            }

            return Problems.Unauthorized(ApiCallers.TokenOf(context) is null
                ? requiredScope is null ? "An Authorization: Bearer <token> header is required." : "A token is required."
                : "The token is not valid.");
        }

        if (requiredScope is { } scope && caller.Scope != scope)
        {
            return Problems.Forbidden(
                $"The token '{caller.Name}' has scope {caller.ScopeName}; /{ApiCallers.ScopeName(scope)}<token>/ routes take " +
                $"{ApiCallers.ScopeName(scope)} tokens{(caller.Scope == ApiScope.Admin ? " (admin tokens use /api/v1)" : "")}.");
        }

        if (adminOnly && caller.Scope != ApiScope.Admin)
        {
            return Problems.Forbidden($"This operation needs an admin token; '{caller.Name}' has scope {caller.ScopeName}.");
        }

        context.Items[ItemKey] = caller;
        try
        {
            return await next(invocation);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            var logger = context.RequestServices.GetRequiredService<ILogger<CallerFilter>>();
            LogFailed(logger, ex, caller.Name, context.Request.Method, invocation.HttpContext.GetEndpoint()?.DisplayName ?? "?");
            return Problems.Unavailable("The cluster could not complete the request; retry later.");
        }
    }

    /// <summary>The authenticated caller of the current request (set by this filter).</summary>
    public static ApiCaller CallerOf(HttpContext context) =>
        context.Items.TryGetValue(ItemKey, out var c) && c is ApiCaller caller
            ? caller
            : throw new InvalidOperationException("The API handler ran without the caller filter.");

    [LoggerMessage(Level = LogLevel.Error, Message = "HTTP API request of {Caller} failed: {Method} {Endpoint}")]
    private static partial void LogFailed(ILogger logger, Exception ex, string caller, string method, string endpoint);
}
