using System.Collections.Concurrent;
using System.Diagnostics;

namespace MtActors.ScaleBench;

/// <summary>
/// Counts the SQL statements of this process (Npgsql's activities, which include the grain storage's), by kind (the
/// statement's first words), with their total time, while <see cref="Enabled"/>.
/// </summary>
internal sealed class StatementCounter : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<string, (int Count, double Milliseconds)> _kinds = new();

    public StatementCounter()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => Enabled ? ActivitySamplingResult.AllData : ActivitySamplingResult.None,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Off: no activity is even created (the counted run pays for counting, the others do not).</summary>
    public bool Enabled { get; set; }

    public void Reset() => _kinds.Clear();

    /// <summary>One line per kind issued at least <paramref name="minimum"/> times: count per cycle and mean duration.</summary>
    public string Report(int cycles, int minimum) =>
        string.Join("; ", _kinds.Where(k => k.Value.Count >= minimum).OrderByDescending(k => k.Value.Count)
            .Select(k => $"{k.Key}: {(double)k.Value.Count / cycles:0.00}/cycle, {k.Value.Milliseconds / k.Value.Count:0.0} ms"));

    private void Stopped(Activity activity)
    {
        var text = activity.GetTagItem("db.query.text") as string ?? activity.GetTagItem("db.statement") as string ?? activity.DisplayName;
        var kind = Kind(text);
        _kinds.AddOrUpdate(kind, (1, activity.Duration.TotalMilliseconds),
            (_, v) => (v.Count + 1, v.Milliseconds + activity.Duration.TotalMilliseconds));
    }

    private static string Kind(string text)
    {
        var words = text.Split((char[])[' ', '\n', '\r', '\t', '('], StringSplitOptions.RemoveEmptyEntries);
        // "WITH updated AS (UPDATE ..." is the storage's write; name the rest by their verb and table.
        if (words.Length > 1 && words[0] == "WITH") return "WITH " + words[1] + " (write)";
        var table = Array.FindIndex(words, w => w is "FROM" or "INTO" or "UPDATE");
        return table >= 0 && table + 1 < words.Length ? $"{words[0]} {words[table + 1]}" : string.Join(' ', words.Take(2));
    }

    public void Dispose() => _listener.Dispose();
}
