using MtActors.Silo.Hosting;
using MtActors.Silo.Http;
using MtActors.Silo.Observability;

namespace MtActors.Grains.Tests.Http;

/// <summary>Configuration of the HTTP API and observability is checked before the silo starts.</summary>
public sealed class HttpApiOptionsTests
{
    private const string Secret = "s3cr3t-value-that-must-not-leak";

    private static List<string> Problems(params (string Name, string? Token, string? Scope, string? Key)[] tokens)
    {
        var o = new HttpApiOptions();
        foreach (var t in tokens)
        {
            o.Tokens[t.Name] = new ApiTokenOptions { Token = t.Token, Scope = t.Scope, AuthKeyId = t.Key };
        }

        return HttpApiOptionsValidator.Check(o);
    }

    [Fact]
    public void Valid_tokens_pass()
    {
        Assert.Empty(Problems(("ops", Secret, "admin", null), ("bot1", "123:" + Secret, "bot", "0x00ff"), ("alice", Secret + "2", "USER", "-5")));
    }

    [Fact]
    public void Each_bad_token_setting_is_named_and_no_token_value_is_shown()
    {
        var problems = Problems(
            ("short", "too-short", "admin", null),
            ("spaces", "has spaces in it 0123456789", "admin", null),
            ("noscope", Secret, "root", null),
            ("unbound", Secret + "b", "bot", null),
            ("badkey", Secret + "c", "user", "0xZZ"),
            ("adminkey", Secret + "d", "admin", "1"),
            ("dup", Secret, "admin", null),
            ("bad name!", Secret + "e", "admin", null),
            ("missing", null, "admin", null));
        var text = string.Join("\n", problems);
        Assert.Contains("MtActors:HttpApi:Tokens:short:Token must be 16..256 characters", text);
        Assert.Contains("MtActors:HttpApi:Tokens:spaces:Token must be", text);
        Assert.Contains("MtActors:HttpApi:Tokens:noscope:Scope must be bot, user or admin (got 'root')", text);
        Assert.Contains("MtActors:HttpApi:Tokens:unbound:AuthKeyId is required", text);
        Assert.Contains("MtActors:HttpApi:Tokens:badkey:AuthKeyId '0xZZ' is not a 64-bit hex id", text);
        Assert.Contains("MtActors:HttpApi:Tokens:adminkey:AuthKeyId must not be set for an admin token", text);
        Assert.Contains("MtActors:HttpApi:Tokens:dup:Token is the same as the token of 'noscope'", text);
        Assert.Contains("MtActors:HttpApi:Tokens:bad name!: the name must be", text);
        Assert.Contains("MtActors:HttpApi:Tokens:missing:Token is missing", text);
        Assert.DoesNotContain(Secret, text);
        Assert.DoesNotContain("too-short", text);
        Assert.DoesNotContain("has spaces", text);
    }

    [Fact]
    public void Rate_limits_must_be_positive()
    {
        var o = new HttpApiOptions { RateLimit = { Burst = 0, RequestsPerPeriod = -1, PeriodSeconds = 0 } };
        var text = string.Join("\n", HttpApiOptionsValidator.Check(o));
        Assert.Contains("MtActors:HttpApi:RateLimit:Burst must be 1..1000000 (got 0)", text);
        Assert.Contains("MtActors:HttpApi:RateLimit:RequestsPerPeriod", text);
        Assert.Contains("MtActors:HttpApi:RateLimit:PeriodSeconds", text);
    }

    [Fact]
    public void The_silo_refuses_to_build_with_bad_api_or_observability_settings()
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => SiloHost.Build([
            "--ConnectionStrings:MtActors=Host=127.0.0.1;Port=1;Database=x;Username=x",
            "--MtActors:HttpApi:Tokens:x:Token=" + Secret, "--MtActors:HttpApi:Tokens:x:Scope=bot"]));
        Assert.Contains("MtActors:HttpApi:Tokens:x:AuthKeyId is required", ex.Message);
        Assert.DoesNotContain(Secret, ex.Message);

        var obs = Assert.Throws<SiloConfigurationException>(() => SiloHost.Build([
            "--ConnectionStrings:MtActors=Host=127.0.0.1;Port=1;Database=x;Username=x",
            "--MtActors:Observability:MetricsPath=metrics", "--MtActors:Observability:ReadyTimeoutSeconds=0"]));
        Assert.Contains("MtActors:Observability:MetricsPath must be a path", obs.Message);
        Assert.Contains("MtActors:Observability:ReadyTimeoutSeconds must be 1..60 (got 0)", obs.Message);
    }

    [Fact]
    public void Tokens_are_found_only_exactly()
    {
        var o = new HttpApiOptions();
        o.Tokens["ops"] = new ApiTokenOptions { Token = Secret, Scope = "admin" };
        o.Tokens["bot"] = new ApiTokenOptions { Token = "1:" + Secret, Scope = "bot", AuthKeyId = "0x10" };
        var callers = new ApiCallers(Microsoft.Extensions.Options.Options.Create(o));
        Assert.Equal(new ApiCaller("ops", ApiScope.Admin, null), callers.Find(Secret));
        var bot = callers.Find("1:" + Secret);
        Assert.Equal(new ApiCaller("bot", ApiScope.Bot, 16), bot);
        Assert.True(bot!.MayAccess(16));
        Assert.False(bot.MayAccess(17));
        Assert.Null(callers.Find(Secret.ToUpperInvariant()));
        Assert.Null(callers.Find(Secret[..^1]));
        Assert.Null(callers.Find(""));
        Assert.Null(callers.Find(null));
    }

    [Fact]
    public void Observability_paths_are_checked()
    {
        Assert.Empty(new ObservabilityOptions().Check());
        Assert.NotEmpty(new ObservabilityOptions { DashboardEnabled = true, DashboardPath = "/metrics" }.Check());
        Assert.NotEmpty(new ObservabilityOptions { MetricsPath = "/health/metrics" }.Check());
    }
}
