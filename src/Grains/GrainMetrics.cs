using System.Diagnostics.Metrics;
using MtActors.Grains.Observability;

namespace MtActors.Grains;

/// <summary>
/// What the grains report on the project's one meter, <c>Meter("MtActors")</c> (DESIGN.md). The instruments shared
/// with the rest of the silo live in <see cref="MtActorsMetrics"/> (documented in docs/operations.md); the two
/// grain-only counters below use the same meter name, so <c>AddMeter("MtActors")</c> exports all of them.
/// </summary>
public static class GrainMetrics
{
    public const string MeterName = MtActorsMetrics.MeterName;

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> SessionsCreated =
        Meter.CreateCounter<long>("mtactors.sessions.created", "{session}", "Sessions created or re-created (new unique_id announced).");

    private static readonly Counter<long> AuthKeys =
        Meter.CreateCounter<long>("mtactors.auth_keys", "{event}", "Auth key events (registered, destroyed, expired).");

    internal static void SessionCreated() => SessionsCreated.Add(1);

    internal static void SessionActivated() => MtActorsMetrics.SessionActivated();

    internal static void SessionDeactivated() => MtActorsMetrics.SessionDeactivated();

    internal static void DestroySession(bool ok) => MtActorsMetrics.DestroySession(ok);

    internal static void DestroyAuthKey(DestroyAuthKeyResult result) =>
        MtActorsMetrics.DestroyAuthKey(result switch { DestroyAuthKeyResult.Ok => "ok", DestroyAuthKeyResult.None => "none", _ => "fail" });

    internal static void BadMsg(int code) => MtActorsMetrics.BadMsg(code);

    internal static void AuthKey(string @event) => AuthKeys.Add(1, new KeyValuePair<string, object?>("event", @event));

    /// <summary>Times one write (or delete) of a session row.</summary>
    internal static async Task TimeWriteAsync(Func<Task> write)
    {
        long start = MtActorsMetrics.StartTimer();
        bool ok = false;
        try
        {
            await write();
            ok = true;
        }
        finally
        {
            MtActorsMetrics.StorageWrite(MtActorsMetrics.Grains.Session, start, ok);
        }
    }
}
