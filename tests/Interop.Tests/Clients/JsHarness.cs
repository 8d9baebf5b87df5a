namespace MtActors.Interop.Tests.Clients;

/// <summary>
/// Locates tests/Interop.Tests/js (the pinned GramJS and mtcute drivers) from the test binaries, and checks that
/// its node_modules were installed. CI installs them with <c>cd tests/Interop.Tests/js &amp;&amp; npm ci</c>.
/// </summary>
public static class JsHarness
{
    private static readonly Lazy<string> s_directory = new(Locate);

    /// <summary>Absolute path of tests/Interop.Tests/js.</summary>
    public static string Directory => s_directory.Value;

    /// <summary>Path of a driver script inside <see cref="Directory"/>, after checking the clients are installed.</summary>
    public static string Script(string fileName)
    {
        EnsureInstalled();
        string path = Path.Combine(Directory, fileName);
        if (!File.Exists(path)) throw new InvalidOperationException($"Interop driver script {path} is missing.");
        return path;
    }

    /// <summary>Throws with a clear instruction when node_modules (or a pinned client in it) is missing.</summary>
    public static void EnsureInstalled()
    {
        string nodeModules = Path.Combine(Directory, "node_modules");
        foreach (string package in new[] { "telegram", "@mtcute/node", "@mtcute/core", "big-integer" })
        {
            if (!File.Exists(Path.Combine(nodeModules, package, "package.json")))
            {
                throw new InvalidOperationException(
                    $"The real MTProto clients are not installed ({Path.Combine(nodeModules, package)} is missing): " +
                    $"run npm ci in tests/Interop.Tests/js (cd {Directory} && npm ci).");
            }
        }
    }

    private static string Locate()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Interop.Tests", "js");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException(
            $"Cannot find tests/Interop.Tests/js/package.json above {AppContext.BaseDirectory}; run the tests from a clone of the repository.");
    }
}
