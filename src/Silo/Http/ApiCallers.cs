using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using MtActors.Admin;

namespace MtActors.Silo.Http;

/// <summary>What a token may do.</summary>
public enum ApiScope
{
    /// <summary>A bot: its own auth key's sessions, on <c>/bot&lt;token&gt;/...</c> and <c>/api/v1</c>.</summary>
    Bot,

    /// <summary>A user: its own auth key's sessions, on <c>/user&lt;token&gt;/...</c> and <c>/api/v1</c>.</summary>
    User,

    /// <summary>An operator: every auth key, and destroying auth keys; on <c>/api/v1</c> only.</summary>
    Admin,
}

/// <summary>A caller identified by its token. <see cref="Name"/> is what logs and rate limits use.</summary>
public sealed record ApiCaller(string Name, ApiScope Scope, long? AuthKeyId)
{
    /// <summary>True when this caller may see and change the sessions of <paramref name="authKeyId"/>.</summary>
    public bool MayAccess(long authKeyId) => Scope == ApiScope.Admin || AuthKeyId == authKeyId;

    /// <summary>The scope as configured (<c>bot</c>, <c>user</c>, <c>admin</c>).</summary>
    public string ScopeName => ApiCallers.ScopeName(Scope);
}

/// <summary>
/// The configured tokens, looked up by their SHA-256 (the table holds no token text), then compared in constant time.
/// </summary>
public sealed class ApiCallers
{
    private const string ItemKey = "MtActors.ApiCaller";
    private readonly Dictionary<string, (byte[] Token, ApiCaller Caller)> _byHash = new(StringComparer.Ordinal);

    /// <summary>Builds the table from validated options.</summary>
    public ApiCallers(IOptions<HttpApiOptions> options)
    {
        foreach (var (name, t) in options.Value.Tokens)
        {
            if (t?.Token is not { Length: > 0 } token || !TryParseScope(t.Scope, out var scope))
            {
                continue; // rejected by the validator at start
            }

            long? key = scope == ApiScope.Admin ? null
                : Ids.TryParse("AuthKeyId", t.AuthKeyId, out var id, out _) ? id : null;
            if (scope != ApiScope.Admin && key is null)
            {
                continue;
            }

            var bytes = Encoding.UTF8.GetBytes(token);
            _byHash[Convert.ToHexString(SHA256.HashData(bytes))] = (bytes, new ApiCaller(name, scope, key));
        }
    }

    /// <summary>Number of configured callers.</summary>
    public int Count => _byHash.Count;

    /// <summary>The caller of <paramref name="token"/>, or null when it is not configured.</summary>
    public ApiCaller? Find(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 256)
        {
            return null;
        }

        var bytes = Encoding.UTF8.GetBytes(token);
        return _byHash.TryGetValue(Convert.ToHexString(SHA256.HashData(bytes)), out var entry) &&
               CryptographicOperations.FixedTimeEquals(entry.Token, bytes)
            ? entry.Caller
            : null;
    }

    /// <summary>
    /// The caller of a request: the token in the path (<c>/bot&lt;token&gt;/...</c>) or the
    /// <c>Authorization: Bearer</c> header. Cached in the request's items (the rate limiter and the endpoint both ask).
    /// </summary>
    public ApiCaller? Resolve(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var cached))
        {
            return cached as ApiCaller;
        }

        var caller = Find(TokenOf(context));
        context.Items[ItemKey] = caller;
        return caller;
    }

    /// <summary>The route parameter of <c>/bot&lt;token&gt;/</c> (<c>bot_token</c>) and <c>/user&lt;token&gt;/</c> (<c>user_token</c>).</summary>
    public static string PathTokenParameter(ApiScope scope) => ScopeName(scope) + "_token";

    /// <summary>The token a request presents (in the path after <c>bot</c> or <c>user</c>, or as a bearer token), or null.</summary>
    public static string? TokenOf(HttpContext context)
    {
        foreach (var scope in (ApiScope[])[ApiScope.Bot, ApiScope.User])
        {
            if (context.Request.RouteValues.TryGetValue(PathTokenParameter(scope), out var value) && value is string prefixed &&
                prefixed.StartsWith(ScopeName(scope), StringComparison.Ordinal))
            {
                return prefixed[ScopeName(scope).Length..];
            }
        }

        var header = context.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        return header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) ? header[bearer.Length..].Trim() : null;
    }

    /// <summary>Parses a configured scope name (case-insensitive).</summary>
    public static bool TryParseScope(string? text, out ApiScope scope)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "bot":
                scope = ApiScope.Bot;
                return true;
            case "user":
                scope = ApiScope.User;
                return true;
            case "admin":
                scope = ApiScope.Admin;
                return true;
            default:
                scope = default;
                return false;
        }
    }

    /// <summary>The configuration name of a scope.</summary>
    public static string ScopeName(ApiScope scope) => scope switch
    {
        ApiScope.Bot => "bot",
        ApiScope.User => "user",
        _ => "admin",
    };
}
