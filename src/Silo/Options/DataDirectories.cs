namespace MtActors.Silo.Options;

/// <summary>
/// Where a local MtActors keeps its data when nothing else is configured. Shared (as a linked source file) by the
/// silo and the mtactors CLI, so that the CLI finds a local silo with no arguments. BCL only.
/// </summary>
internal static class DataDirectories
{
    /// <summary>Environment variable that overrides the default data directory (for the silo and the CLI).</summary>
    public const string EnvironmentVariable = "MTACTORS_DATA_DIR";

    /// <summary>Name of the file, in the data directory, that describes the local cluster.</summary>
    public const string ClusterFileName = "cluster.json";

    /// <summary>
    /// <paramref name="configured"/> as an absolute path (with <c>~/</c> expanded); when empty: MTACTORS_DATA_DIR,
    /// then <c>/var/lib/mtactors</c> for root (the PostgreSQL server runs as the postgres user, which cannot reach
    /// root's home), then <c>$XDG_DATA_HOME/mtactors</c>, then <c>~/.local/share/mtactors</c>.
    /// </summary>
    public static string Resolve(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        }

        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(ExpandHome(configured.Trim()));
        }

        if (!OperatingSystem.IsWindows() && Environment.UserName == "root")
        {
            return "/var/lib/mtactors";
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "mtactors");
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
        {
            throw new InvalidOperationException(
                "No home directory to put the data directory in; set MtActors:DataDirectory or MTACTORS_DATA_DIR.");
        }

        return Path.Combine(home, ".local", "share", "mtactors");
    }

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.TrimStart('~', '/'))
            : path;
}
