using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace MtActors.Interop.Tests.Clients;

/// <summary>
/// Runs one real MTProto client driver (<c>node gramjs.cjs ...</c> or <c>node mtcute.mjs ...</c>) with a hard timeout:
/// the process tree is killed when it does not exit in time. stdout must carry one JSON line (see <see cref="ClientRun"/>).
/// </summary>
/// <example>
/// <code>
/// ClientRun run = await NodeClient.GramJs.RunAsync(new ClientOptions
/// {
///     Port = port, Scenario = "connect-ping", Transport = "abridged", RsaKeyPath = pem.Path,
/// });
/// run.EnsureOk();
/// Assert.Equal(256, run.AuthKeyLength);
/// </code>
/// </example>
public sealed class NodeClient
{
    /// <summary>GramJS (npm telegram 2.26.22): transports full | abridged | obfuscated; modes sender | client.</summary>
    public static NodeClient GramJs { get; } = new("gramjs", "gramjs.cjs");

    /// <summary>mtcute (@mtcute/node 0.30.3): transports intermediate | padded | obfuscated | obfuscated-padded.</summary>
    public static NodeClient Mtcute { get; } = new("mtcute", "mtcute.mjs");

    /// <summary>
    /// Any other script under tests/Interop.Tests/js (e.g. <c>examples/gramjs-connect.cjs</c>), run with the same hard
    /// timeout; its stdout need not be a driver's JSON line (<see cref="ClientRun.Stdout"/> has it).
    /// </summary>
    public static NodeClient ForScript(string relativePath) => new(Path.GetFileName(relativePath), relativePath);

    /// <summary>Time the runner grants beyond the script's own deadline before it kills the process tree.</summary>
    public static TimeSpan HardTimeoutMargin { get; } = TimeSpan.FromSeconds(15);

    private NodeClient(string name, string script)
    {
        Name = name;
        ScriptFile = script;
    }

    public string Name { get; }

    public string ScriptFile { get; }

    public Task<ClientRun> RunAsync(ClientOptions options, CancellationToken cancellationToken = default) =>
        RunAsync(options.ToArguments(), options.ToEnvironment(), options.Timeout + HardTimeoutMargin, cancellationToken);

    /// <summary>Runs the script with raw arguments; the process is killed after <paramref name="hardTimeout"/>.</summary>
    public async Task<ClientRun> RunAsync(
        IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string> environment,
        TimeSpan hardTimeout,
        CancellationToken cancellationToken = default)
    {
        string script = JsHarness.Script(ScriptFile);
        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = JsHarness.Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add(script);
        foreach (string a in arguments) psi.ArgumentList.Add(a);
        // The drivers read MTI_* as option defaults: never inherit them from the test process.
        foreach (string key in psi.Environment.Keys.Where(k => k.StartsWith("MTI_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }
        foreach ((string key, string value) in environment) psi.Environment[key] = value;

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };

        var watch = Stopwatch.StartNew();
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("Cannot start 'node' (Node.js 20 or later must be on PATH) for the interop clients.", e);
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        bool killed = false;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(hardTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                killed = true;
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // exited in the meantime
                }
                // Bounded: after a kill the process is gone within moments; do not wait forever on a stuck pipe.
                using var reap = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await process.WaitForExitAsync(reap.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        // WaitForExitAsync returns only after the redirected streams reached EOF, so stdout/stderr are complete here.
        watch.Stop();

        string outText;
        string errText;
        lock (stdout) outText = stdout.ToString();
        lock (stderr) errText = stderr.ToString();
        return new ClientRun(
            Name,
            arguments,
            process.HasExited ? process.ExitCode : null,
            killed,
            watch.Elapsed,
            outText,
            errText,
            ParseLine(outText));
    }

    private static JsonElement? ParseLine(string stdout)
    {
        string? line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (line is null || !line.StartsWith('{')) return null;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
