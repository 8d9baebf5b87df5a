using MtActors.Grains.Observability;

namespace MtActors.Grains;

/// <summary>
/// The grains' shorthand for <see cref="MtActorsMetrics"/>, the project's one <c>Meter("MtActors")</c> (DESIGN.md):
/// every instrument lives there, so that OpenTelemetry sees each name once.
/// </summary>
public static class GrainMetrics
{
    public const string MeterName = MtActorsMetrics.MeterName;

    internal static void SessionCreated() => MtActorsMetrics.SessionCreated();

    internal static void SessionActivated() => MtActorsMetrics.SessionActivated();

    internal static void SessionDeactivated() => MtActorsMetrics.SessionDeactivated();

    internal static void AuthKeyActivated() => MtActorsMetrics.AuthKeyActivated();

    /// <summary>destroy_session answered by a session grain (the MTProto RPC).</summary>
    internal static void DestroySession(bool ok) => MtActorsMetrics.DestroySession(ok, MtActorsMetrics.Sources.MtProto);

    internal static void AuthKey(string @event) => MtActorsMetrics.AuthKeyEvent(@event);

    /// <summary>Times one storage operation of a session grain.</summary>
    internal static Task TimeWriteAsync(string kind, Func<Task> write) =>
        MtActorsMetrics.TimeStorageAsync(MtActorsMetrics.Grains.Session, kind, write);
}
