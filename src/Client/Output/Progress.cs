using System.Diagnostics;
using System.Globalization;

namespace MtActors.Client.Output;

/// <summary>
/// Progress of a long operation on standard error, one line redrawn in place (carriage return), at most five times a
/// second; only when enabled (standard error is a terminal and --no-progress was not given). Never on standard
/// output, so piped output stays clean.
/// </summary>
public sealed class Progress(TextWriter error, bool enabled)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private readonly Stopwatch _sinceLast = new();
    private int _width;

    /// <summary>True when progress lines are written.</summary>
    public bool Enabled => enabled;

    /// <summary>Shows "label: done/total (pct%)"; with <paramref name="force"/> even within the rate limit.</summary>
    public void Report(string label, long done, long? total, bool force = false)
    {
        if (!enabled || (!force && _sinceLast.IsRunning && _sinceLast.Elapsed < Interval))
        {
            return;
        }

        _sinceLast.Restart();
        var text = total is { } t && t > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{label}: {done}/{t} ({Math.Min(100, done * 100 / t)}%)")
            : string.Create(CultureInfo.InvariantCulture, $"{label}: {done}");
        var pad = Math.Max(0, _width - text.Length);
        _width = text.Length;
        lock (error)
        {
            error.Write("\r" + text + new string(' ', pad));
            error.Flush();
        }
    }

    /// <summary>Erases the progress line (if one was drawn) so the next output starts on a clean line.</summary>
    public void Clear()
    {
        if (!enabled || _width == 0)
        {
            return;
        }

        lock (error)
        {
            error.Write("\r" + new string(' ', _width) + "\r");
            error.Flush();
        }

        _width = 0;
        _sinceLast.Reset();
    }
}
