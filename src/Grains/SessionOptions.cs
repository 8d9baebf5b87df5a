namespace MtActors.Grains;

/// <summary>Tunables of the session grains (configuration section <c>MtActors:Sessions</c>).</summary>
public sealed class SessionOptions
{
    public const string Section = "MtActors:Sessions";

    /// <summary>How many recent client msg_ids a session remembers for duplicate detection (spec: N unspecified; 64..8192).</summary>
    public int ReplayWindowSize { get; set; } = 256;

    /// <summary>
    /// Seconds of msg_id space reserved ahead with one durable write (client replay floor and server msg_id
    /// floor; 1..60). Larger: fewer writes under steady traffic; smaller: after a silo crash, fewer
    /// of the session's in-flight messages are answered "too old to tell" (20) and re-sent by the client.
    /// </summary>
    public int ReservationSeconds { get; set; } = 5;

    internal string? Validate()
    {
        if (ReplayWindowSize is < 64 or > 8192) return $"{nameof(ReplayWindowSize)} must be within 64..8192";
        if (ReservationSeconds is < 1 or > 60) return $"{nameof(ReservationSeconds)} must be within 1..60";
        return null;
    }
}
