using System.Runtime.InteropServices;

namespace MtActors.Cluster.Tests.Infrastructure;

/// <summary>Signals and limits the process tests need (Linux).</summary>
internal static partial class Posix
{
    public const int SigKill = 9;
    public const int SigCont = 18;
    public const int SigStop = 19;
    private const int RlimitNoFile = 7;

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/>; false when it failed (process gone).</summary>
    public static bool Signal(int pid, int signal) => kill(pid, signal) == 0;

    /// <summary>Raises this process's open-file soft limit towards <paramref name="wanted"/> (up to the hard limit).</summary>
    /// <returns>The soft limit in force afterwards.</returns>
    public static ulong RaiseOpenFileLimit(ulong wanted)
    {
        if (getrlimit(RlimitNoFile, out var limit) != 0)
        {
            return 0;
        }

        if (limit.Current >= wanted)
        {
            return limit.Current;
        }

        var raised = limit with { Current = Math.Min(wanted, limit.Maximum) };
        return setrlimit(RlimitNoFile, in raised) == 0 ? raised.Current : limit.Current;
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct RLimit(ulong Current, ulong Maximum);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out RLimit limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, in RLimit limit);
}
