using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MtActors.Grains;

/// <summary>
/// The grains' instruments on the project's one meter, <c>Meter("MtActors")</c> (DESIGN.md): subscribe to
/// the meter name (OpenTelemetry <c>AddMeter("MtActors")</c>) to export them.
/// </summary>
public static class GrainMetrics
{
    public const string MeterName = "MtActors";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> SessionsCreated =
        Meter.CreateCounter<long>("mtactors.sessions.created", description: "Sessions created (new unique_id)");

    private static readonly Counter<long> SessionActivations =
        Meter.CreateCounter<long>("mtactors.sessions.activations", description: "Session grain activations");

    private static readonly Counter<long> DestroySessions =
        Meter.CreateCounter<long>("mtactors.destroy_session", description: "destroy_session answers, by outcome (ok / none)");

    private static readonly Counter<long> AuthKeys =
        Meter.CreateCounter<long>("mtactors.auth_keys", description: "Auth key events (registered / destroyed / expired)");

    private static readonly Histogram<double> StorageWrites =
        Meter.CreateHistogram<double>("mtactors.storage.write.duration", unit: "ms",
            description: "Session storage: write = one row write, awaited = how long an answer waited for durability, final = deactivation write, delete = destroy");

    internal static void SessionCreated() => SessionsCreated.Add(1);

    internal static void SessionActivated() => SessionActivations.Add(1);

    internal static void DestroySession(bool ok) => DestroySessions.Add(1, new KeyValuePair<string, object?>("outcome", ok ? "ok" : "none"));

    internal static void AuthKey(string @event) => AuthKeys.Add(1, new KeyValuePair<string, object?>("event", @event));

    /// <summary>Times one storage operation.</summary>
    internal static async Task TimeWriteAsync(string kind, Func<Task> write)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await write();
        }
        finally
        {
            StorageWrites.Record(Stopwatch.GetElapsedTime(start).TotalMilliseconds, new KeyValuePair<string, object?>("kind", kind));
        }
    }
}
