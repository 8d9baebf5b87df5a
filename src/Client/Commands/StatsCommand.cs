using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using MtActors.Client.Storage;
using Orleans.Runtime;

namespace MtActors.Client.Commands;

/// <summary><c>stats</c>: silos from the membership table, stored sessions and keys, live activations.</summary>
internal static class StatsCommand
{
    public static void Add(Command root, CommandContext context)
    {
        var includeDead = new Option<bool>("--include-dead") { Description = "Also list silos the cluster declared dead" };
        var stats = context.Command("stats",
            "Cluster overview: the silos of the membership table with their status, the number of auth keys and " +
            "sessions in storage, and the live grain activations (asked from the silos through the Orleans management " +
            "grain; shown as unavailable when no silo answers, the rest still prints with exit code 0).",
            [includeDead],
            "mtactors stats",
            "mtactors stats --include-dead --json");
        context.Action(stats, async inv =>
        {
            var db = inv.Database;
            var silos = await db.ReadSilosAsync(inv.Cancellation);
            var authKeys = await db.CountAuthKeysAsync(inv.Cancellation);
            var sessions = await db.CountSessionsAsync(null, inv.Cancellation);
            var active = silos.Count(s => s.Status == SiloStatus.Active);
            var dead = silos.Count(s => s.Status == SiloStatus.Dead);
            var listed = inv.Parse.GetValue(includeDead) ? silos : [.. silos.Where(s => s.Status != SiloStatus.Dead)];

            Activations? activations = null;
            string? activationsError = null;
            if (active == 0)
            {
                activationsError = "no active silo";
            }
            else
            {
                try
                {
                    activations = await ReadActivationsAsync(inv);
                }
                catch (Exception ex) when (ex is CliException or TimeoutException or SiloUnavailableException or OrleansException)
                {
                    activationsError = Cli.OneLine(ex);
                }
            }

            var connection = inv.Connection;
            if (inv.Json)
            {
                await inv.WriteJsonAsync(new JsonObject
                {
                    ["cluster_id"] = connection.ClusterId,
                    ["service_id"] = connection.ServiceId,
                    ["silos_active"] = active,
                    ["silos_dead"] = dead,
                    ["silos"] = new JsonArray([.. listed.Select(Json)]),
                    ["storage"] = new JsonObject { ["auth_keys"] = authKeys, ["sessions"] = sessions },
                    ["activations"] = activations is null ? null : new JsonObject
                    {
                        ["total"] = activations.Total,
                        ["sessions"] = activations.Sessions,
                        ["auth_keys"] = activations.AuthKeys,
                        ["per_silo"] = new JsonArray([.. activations.PerSilo.Select(p => (JsonNode)new JsonObject
                        {
                            ["silo"] = p.Key,
                            ["activations"] = p.Value,
                        })]),
                    },
                    ["activations_error"] = activationsError,
                });
                return ExitCodes.Ok;
            }

            var o = inv.Out;
            await o.WriteLineAsync($"{"cluster",-12} {connection.ClusterId} (service {connection.ServiceId})");
            var other = silos.Count - active - dead;
            await o.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{"silos",-12} {active} active, {other} starting or stopping, {dead} dead"));
            if (listed.Count > 0)
            {
                await o.WriteLineAsync($"  {"STATUS",-13} {"ADDRESS",-22} {"GATEWAY",-7}  {"NAME",-20} {"HOST",-16} {"STARTED",-20}  LAST_ALIVE");
                foreach (var s in listed)
                {
                    await o.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"  {s.Status,-13} {s.Address + ":" + s.Port,-22} {(s.GatewayPort is { } g and > 0 ? g.ToString(CultureInfo.InvariantCulture) : "-"),-7}  {s.Name,-20} {s.HostName,-16} {Short(s.StartedAt),-20}  {Short(s.IAmAliveAt)}"));
                }
            }

            await o.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{"stored",-12} {authKeys} auth keys, {sessions} sessions"));
            await o.WriteLineAsync(activations is null
                ? $"{"activations",-12} unavailable ({activationsError})"
                : string.Create(CultureInfo.InvariantCulture,
                    $"{"activations",-12} {activations.Total} (sessions {activations.Sessions}, auth keys {activations.AuthKeys}, other {activations.Total - activations.Sessions - activations.AuthKeys})"));
            return ExitCodes.Ok;
        });
        root.Subcommands.Add(stats);
    }

    private sealed record Activations(long Total, long Sessions, long AuthKeys, SortedDictionary<string, long> PerSilo);

    private static async Task<Activations> ReadActivationsAsync(Invocation inv)
    {
        var client = await inv.ClientAsync();
        var statistics = await client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        long total = 0, sessions = 0, authKeys = 0;
        var perSilo = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var s in statistics)
        {
            total += s.ActivationCount;
            if (IsGrain(s.GrainType, "SessionGrain"))
            {
                sessions += s.ActivationCount;
            }
            else if (IsGrain(s.GrainType, "AuthKeyGrain"))
            {
                authKeys += s.ActivationCount;
            }

            var silo = s.SiloAddress?.ToString() ?? "?";
            perSilo[silo] = perSilo.GetValueOrDefault(silo) + s.ActivationCount;
        }

        return new Activations(total, sessions, authKeys, perSilo);
    }

    /// <summary>True when the statistics' grain type names the class <paramref name="className"/> of MtActors.Grains.</summary>
    internal static bool IsGrain(string? grainType, string className) =>
        grainType is not null &&
        (grainType.Contains("MtActors.Grains." + className, StringComparison.OrdinalIgnoreCase) ||
         grainType.Equals(className, StringComparison.OrdinalIgnoreCase) ||
         grainType.Equals(className[..^"Grain".Length], StringComparison.OrdinalIgnoreCase));

    private static JsonNode Json(SiloRow s) => new JsonObject
    {
        ["status"] = s.Status.ToString(),
        ["address"] = s.Address,
        ["port"] = s.Port,
        ["generation"] = s.Generation,
        ["gateway_port"] = s.GatewayPort is { } g and > 0 ? g : null,
        ["name"] = s.Name,
        ["host"] = s.HostName,
        ["started_at"] = JsonText.Time(s.StartedAt.ToUniversalTime()),
        ["i_am_alive_at"] = JsonText.Time(s.IAmAliveAt.ToUniversalTime()),
    };

    private static string Short(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
