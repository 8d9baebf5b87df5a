using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MtActors.Grains.Observability;

/// <summary>
/// The one <c>MtActors</c> meter (System.Diagnostics.Metrics, exported by the silo through OpenTelemetry on
/// <c>/metrics</c>). Code that observes something calls one of the small methods below; they are cheap (no allocation,
/// no lock) and safe from any thread. Tag values are from small fixed sets, never ids.
/// </summary>
/// <remarks>
/// Prometheus names (what the scrape endpoint shows): dots become underscores, counters get <c>_total</c>, the
/// histogram gets <c>_seconds</c>. See docs/operations.md for the list.
/// </remarks>
public static class MtActorsMetrics
{
    /// <summary>Name of the meter (the OpenTelemetry <c>AddMeter</c> argument).</summary>
    public const string MeterName = "MtActors";

    /// <summary>Instrument names, as the meter publishes them.</summary>
    public static class Names
    {
        public const string Handshakes = "mtactors.handshakes";
        public const string FramesReceived = "mtactors.frames.received";
        public const string FramesSent = "mtactors.frames.sent";
        public const string BadMsgNotifications = "mtactors.bad_msg_notifications";
        public const string DestroySession = "mtactors.destroy_session";
        public const string DestroyAuthKey = "mtactors.destroy_auth_key";
        public const string ActiveSessions = "mtactors.sessions.active";
        public const string GrainActivations = "mtactors.grain.activations";
        public const string StorageWriteDuration = "mtactors.storage.write.duration";
    }

    /// <summary>Values of the <c>grain</c> tag.</summary>
    public static class Grains
    {
        public const string Session = "session";
        public const string AuthKey = "authkey";
    }

    /// <summary>Values of the <c>source</c> tag of <see cref="Names.DestroySession"/>.</summary>
    public static class Sources
    {
        /// <summary>The MTProto RPC destroy_session, answered in a session of the same key.</summary>
        public const string MtProto = "mtproto";

        /// <summary>The silo's HTTP API.</summary>
        public const string Http = "http";

        /// <summary>The mtactors CLI (an Orleans cluster client).</summary>
        public const string Cli = "cli";
    }

    private static readonly Meter Meter = new(MeterName, typeof(MtActorsMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> HandshakeCounter = Meter.CreateCounter<long>(
        Names.Handshakes, "{handshake}", "Auth key handshakes finished, by result (ok, failed) and key kind or failure reason.");

    private static readonly Counter<long> FramesReceivedCounter = Meter.CreateCounter<long>(
        Names.FramesReceived, "{frame}", "MTProto transport frames received, by transport.");

    private static readonly Counter<long> FramesSentCounter = Meter.CreateCounter<long>(
        Names.FramesSent, "{frame}", "MTProto transport frames sent, by transport.");

    private static readonly Counter<long> BadMsgCounter = Meter.CreateCounter<long>(
        Names.BadMsgNotifications, "{notification}",
        "bad_msg_notification (codes 16..64) and bad_server_salt (code 48) sent, by error code.");

    private static readonly Counter<long> DestroySessionCounter = Meter.CreateCounter<long>(
        Names.DestroySession, "{request}",
        "destroy_session answered, by result (destroy_session_ok, destroy_session_none) and source (mtproto, http, cli).");

    private static readonly Counter<long> DestroyAuthKeyCounter = Meter.CreateCounter<long>(
        Names.DestroyAuthKey, "{request}", "destroy_auth_key answered, by result (ok, none, fail) and source.");

    private static readonly UpDownCounter<long> ActiveSessionsCounter = Meter.CreateUpDownCounter<long>(
        Names.ActiveSessions, "{session}", "Session grains active (in memory) on this silo.");

    private static readonly Counter<long> ActivationCounter = Meter.CreateCounter<long>(
        Names.GrainActivations, "{activation}", "Grain activations on this silo, by grain (session, authkey).");

    private static readonly Histogram<double> StorageWriteHistogram = Meter.CreateHistogram<double>(
        Names.StorageWriteDuration, "s",
        "Duration of grain state writes (and deletes) on PostgreSQL, by grain and result (ok, error).",
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });

    /// <summary>A handshake created an auth key (<paramref name="temporary"/>: a PFS key, bind_auth_key_inner later).</summary>
    public static void HandshakeCompleted(bool temporary) =>
        HandshakeCounter.Add(1, new KeyValuePair<string, object?>("result", "ok"),
            new KeyValuePair<string, object?>("kind", temporary ? "temporary" : "permanent"));

    /// <summary>
    /// A handshake ended without a key. <paramref name="reason"/> is a short word from a fixed set
    /// (e.g. <c>bad_nonce</c>, <c>bad_rsa</c>, <c>dh_gen_fail</c>, <c>timeout</c>), never input from the network.
    /// </summary>
    public static void HandshakeFailed(string reason) =>
        HandshakeCounter.Add(1, new KeyValuePair<string, object?>("result", "failed"),
            new KeyValuePair<string, object?>("reason", reason));

    /// <summary>One transport frame read (<paramref name="transport"/>: abridged, intermediate, padded, full, obfuscated…).</summary>
    public static void FrameReceived(string transport) =>
        FramesReceivedCounter.Add(1, new KeyValuePair<string, object?>("transport", transport));

    /// <summary><paramref name="frames"/> transport frames written (one flush).</summary>
    public static void FrameSent(string transport, int frames = 1) =>
        FramesSentCounter.Add(frames, new KeyValuePair<string, object?>("transport", transport));

    /// <summary>A bad_msg_notification with <paramref name="code"/> (or bad_server_salt: code 48) was sent.</summary>
    public static void BadMsg(int code) =>
        BadMsgCounter.Add(1, new KeyValuePair<string, object?>("code", BadMsgCodeTag(code)));

    /// <summary>
    /// destroy_session was answered: <paramref name="ok"/> is destroy_session_ok, otherwise destroy_session_none.
    /// Count each request once, where it is answered: the session grain answering the RPC (source mtproto), the HTTP
    /// API (http) or the CLI (cli) — not in <c>ISessionGrain.Destroy</c>, which all of them call.
    /// </summary>
    public static void DestroySession(bool ok, string source = Sources.MtProto) =>
        DestroySessionCounter.Add(1, new KeyValuePair<string, object?>("result", ok ? "destroy_session_ok" : "destroy_session_none"),
            new KeyValuePair<string, object?>("source", source));

    /// <summary>destroy_auth_key was answered with <paramref name="result"/> (<c>ok</c>, <c>none</c>, <c>fail</c>).</summary>
    public static void DestroyAuthKey(string result, string source = Sources.MtProto) =>
        DestroyAuthKeyCounter.Add(1, new KeyValuePair<string, object?>("result", result),
            new KeyValuePair<string, object?>("source", source));

    /// <summary>A session grain activated (call from OnActivateAsync).</summary>
    public static void SessionActivated()
    {
        ActivationCounter.Add(1, new KeyValuePair<string, object?>("grain", Grains.Session));
        ActiveSessionsCounter.Add(1);
    }

    /// <summary>A session grain deactivated (call from OnDeactivateAsync, once per activation).</summary>
    public static void SessionDeactivated() => ActiveSessionsCounter.Add(-1);

    /// <summary>An auth key grain activated.</summary>
    public static void AuthKeyActivated() =>
        ActivationCounter.Add(1, new KeyValuePair<string, object?>("grain", Grains.AuthKey));

    /// <summary>A timestamp to pass to <see cref="StorageWrite"/> (Stopwatch ticks).</summary>
    public static long StartTimer() => Stopwatch.GetTimestamp();

    /// <summary>
    /// A state write (or delete) of <paramref name="grain"/> (<see cref="Grains"/>) that started at
    /// <paramref name="startTimestamp"/> (<see cref="StartTimer"/>) finished, successfully or not.
    /// </summary>
    public static void StorageWrite(string grain, long startTimestamp, bool ok) =>
        StorageWriteHistogram.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
            new KeyValuePair<string, object?>("grain", grain),
            new KeyValuePair<string, object?>("result", ok ? "ok" : "error"));

    // Boxed once: the tag value of every documented code, so BadMsg allocates nothing.
    private static readonly object[] CodeTags = Enumerable.Range(0, 65).Select(i => (object)i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static object BadMsgCodeTag(int code) => code is >= 0 and <= 64 ? CodeTags[code] : "other";
}
