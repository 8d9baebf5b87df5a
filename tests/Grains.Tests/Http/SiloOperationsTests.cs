using System.Net;
using System.Text.Json;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Silo.Postgres;

namespace MtActors.Grains.Tests.Http;

/// <summary>Silos started for one test each: a small rate limit with the dashboard on; PostgreSQL going away.</summary>
[Collection(HttpCollection.Name)]
public sealed class SiloOperationsTests(HttpFixture f)
{
    [Fact]
    public async Task Each_token_gets_its_burst_then_429_with_Retry_After_and_the_dashboard_is_served_when_switched_on()
    {
        var db = await f.CreateMigratedDatabaseAsync("ratelimit");
        var (_, key) = TestData.NewKey();
        await using var silo = await HttpSilo.StartAsync(db, HttpFixture.Settings(
            ("Tokens:bot1:Token", HttpFixture.BotToken), ("Tokens:bot1:Scope", "bot"), ("Tokens:bot1:AuthKeyId", key.ToString()),
            ("Tokens:bot2:Token", HttpFixture.OtherBotToken), ("Tokens:bot2:Scope", "bot"), ("Tokens:bot2:AuthKeyId", key.ToString()),
            ("RateLimit:Burst", "3"), ("RateLimit:RequestsPerPeriod", "1"), ("RateLimit:PeriodSeconds", "60"),
            ("MtActors:Observability:DashboardEnabled", "true")));

        var path = $"/bot{HttpFixture.BotToken}/get_sessions";
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await silo.SendAsync(HttpMethod.Get, path)).StatusCode);
        }

        var limited = await silo.SendAsync(HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 60);
        // The bearer route shares the caller's bucket.
        Assert.Equal(HttpStatusCode.TooManyRequests,
            (await silo.SendAsync(HttpMethod.Get, $"/api/v1/authkeys/{key}/sessions", HttpFixture.BotToken)).StatusCode);

        // Another token has its own bucket; health and metrics are never limited.
        Assert.Equal(HttpStatusCode.OK, (await silo.SendAsync(HttpMethod.Get, $"/bot{HttpFixture.OtherBotToken}/get_sessions")).StatusCode);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/live")).StatusCode);
        }

        // Guessing tokens is limited too (per client address).
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await silo.SendAsync(HttpMethod.Get, $"/bot{i}:guessed-token-0123456789/get_sessions")).StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);

        // MtActors:Observability:DashboardEnabled=true serves the Orleans dashboard.
        var dashboard = await silo.Http.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("html", dashboard.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Ready_turns_503_while_PostgreSQL_is_down_and_200_again_when_it_is_back_while_live_stays_200()
    {
        // Its own server, kept on disk: this test stops it and starts it again on the same port.
        var root = Path.Combine(Path.GetTempPath(), "mtactors-pg-health-" + Guid.NewGuid().ToString("N")[..12]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var pg = await LocalPostgres.StartAsync(new LocalPostgresOptions { RootDirectory = root, Database = "mtactors_health" },
            cancellationToken: timeout.Token);
        try
        {
            await SchemaMigrator.ApplyAsync(pg.ConnectionString);
            await using var silo = await HttpSilo.StartAsync(pg.ConnectionString, HttpFixture.Settings(
                ("MtActors:Observability:ReadyTimeoutSeconds", "2")));
            Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/ready")).StatusCode);

            await pg.StopAsync();
            var started = System.Diagnostics.Stopwatch.StartNew();
            var response = await silo.Http.GetAsync("/health/ready");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"got {(int)response.StatusCode}: {body}");
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"the readiness check took {started.Elapsed}");
            var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks");
            Assert.Equal("Unhealthy", checks.GetProperty("postgresql").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/live")).StatusCode);

            pg = LocalPostgres.Create(new LocalPostgresOptions { RootDirectory = root, Database = "mtactors_health", Port = pg.Port });
            await pg.StartAsync(timeout.Token);
            Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/ready")).StatusCode);
        }
        finally
        {
            await pg.StopAsync();
            Directory.Delete(root, recursive: true);
        }
    }
}
