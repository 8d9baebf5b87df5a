namespace MtActors.Client;

/// <summary>The mtactors CLI's exit codes.</summary>
public static class ExitCodes
{
    /// <summary>Done (destroy answered ok or none, show found the session, ...).</summary>
    public const int Ok = 0;

    /// <summary>An unexpected failure (a bug or an error inside the cluster); the message says which.</summary>
    public const int Failure = 1;

    /// <summary>Bad command line: unknown command or option, an id that is not a 64-bit number.</summary>
    public const int Usage = 2;

    /// <summary>The cluster could not be reached (database down, no silo running) or nothing says where it is.</summary>
    public const int NoCluster = 3;

    /// <summary>The session or auth key asked for does not exist.</summary>
    public const int NotFound = 4;

    /// <summary>The operation did not finish within --timeout.</summary>
    public const int Timeout = 5;

    /// <summary>Interrupted (Ctrl-C / SIGINT), as shells report 128 + SIGINT.</summary>
    public const int Interrupted = 130;
}

/// <summary>An error the CLI reports as one line with a specific exit code.</summary>
public sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Exit code for this error.</summary>
    public int ExitCode { get; } = exitCode;
}
