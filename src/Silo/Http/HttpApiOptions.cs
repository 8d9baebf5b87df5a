using Microsoft.Extensions.Options;
using MtActors.Admin;

namespace MtActors.Silo.Http;

/// <summary>
/// The HTTP API's settings, section <c>MtActors:HttpApi</c> (environment: <c>MtActors__HttpApi__...</c>).
/// Tokens are keyed by a name that appears in logs and metrics; the token itself is never logged.
/// </summary>
public sealed class HttpApiOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "MtActors:HttpApi";

    /// <summary>False removes the API routes (health and metrics stay).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Callers by name: <c>MtActors:HttpApi:Tokens:&lt;name&gt;:Token|Scope|AuthKeyId</c>. Without any token every
    /// API request is answered 401.
    /// </summary>
    public Dictionary<string, ApiTokenOptions> Tokens { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Per-caller request limit.</summary>
    public ApiRateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>One caller of the HTTP API.</summary>
public sealed class ApiTokenOptions
{
    /// <summary>The secret: 16..256 characters from <c>A-Z a-z 0-9 _ - . ~ :</c> (it may appear in a URL path).</summary>
    public string? Token { get; set; }

    /// <summary><c>bot</c>, <c>user</c> or <c>admin</c>.</summary>
    public string? Scope { get; set; }

    /// <summary>
    /// For bot and user tokens: the one auth key (decimal or 0x-hex) whose sessions the token may see and destroy.
    /// Admin tokens reach every key and must not have one.
    /// </summary>
    public string? AuthKeyId { get; set; }
}

/// <summary>
/// A token bucket per caller (per client address for requests without a known token): <see cref="Burst"/> requests
/// at once, refilled by <see cref="RequestsPerPeriod"/> every <see cref="PeriodSeconds"/>. Over it: 429 with Retry-After.
/// </summary>
public sealed class ApiRateLimitOptions
{
    /// <summary>False turns rate limiting off.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Bucket size: requests a caller may make at once.</summary>
    public int Burst { get; set; } = 20;

    /// <summary>Requests added back to the bucket every period.</summary>
    public int RequestsPerPeriod { get; set; } = 10;

    /// <summary>Refill period in seconds.</summary>
    public int PeriodSeconds { get; set; } = 1;
}

/// <summary>Checks <see cref="HttpApiOptions"/> at start; messages name the setting, never a token's value.</summary>
public sealed class HttpApiOptionsValidator : IValidateOptions<HttpApiOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, HttpApiOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>The problems found, empty when valid.</summary>
    public static List<string> Check(HttpApiOptions o)
    {
        const string s = HttpApiOptions.SectionName;
        var errors = new List<string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (callerName, t) in o.Tokens)
        {
            var at = $"{s}:Tokens:{callerName}";
            if (callerName.Length is 0 or > 64 || !callerName.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                errors.Add($"{at}: the name must be 1..64 characters from A-Z a-z 0-9 _ - .");
            }

            if (t is null)
            {
                errors.Add($"{at}: empty entry (set Token, Scope and, for bot and user, AuthKeyId).");
                continue;
            }

            if (string.IsNullOrEmpty(t.Token))
            {
                errors.Add($"{at}:Token is missing.");
            }
            else if (t.Token.Length is < 16 or > 256 || !t.Token.All(IsTokenChar))
            {
                errors.Add($"{at}:Token must be 16..256 characters from A-Z a-z 0-9 _ - . ~ : (value not shown).");
            }
            else if (!seen.TryAdd(t.Token, callerName))
            {
                errors.Add($"{at}:Token is the same as the token of '{seen[t.Token]}' (value not shown).");
            }

            if (!ApiCallers.TryParseScope(t.Scope, out var scope))
            {
                errors.Add($"{at}:Scope must be bot, user or admin (got '{t.Scope}').");
                continue;
            }

            if (scope == ApiScope.Admin)
            {
                if (!string.IsNullOrWhiteSpace(t.AuthKeyId))
                {
                    errors.Add($"{at}:AuthKeyId must not be set for an admin token (admin reaches every auth key).");
                }
            }
            else if (!Ids.TryParse($"{at}:AuthKeyId", t.AuthKeyId, out _, out var idError))
            {
                errors.Add($"{idError} (a {t.Scope} token is bound to one auth key).");
            }
        }

        var r = o.RateLimit;
        if (r.Burst is < 1 or > 1_000_000)
        {
            errors.Add($"{s}:RateLimit:Burst must be 1..1000000 (got {r.Burst}).");
        }

        if (r.RequestsPerPeriod is < 1 or > 1_000_000)
        {
            errors.Add($"{s}:RateLimit:RequestsPerPeriod must be 1..1000000 (got {r.RequestsPerPeriod}).");
        }

        if (r.PeriodSeconds is < 1 or > 86_400)
        {
            errors.Add($"{s}:RateLimit:PeriodSeconds must be 1..86400 (got {r.PeriodSeconds}).");
        }

        return errors;
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '~' or ':';
}
