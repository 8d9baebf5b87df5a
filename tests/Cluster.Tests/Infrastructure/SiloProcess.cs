using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MtActors.Cluster.Tests.Infrastructure;

/// <summary>
/// One real silo process (<c>dotnet MtActors.Silo.dll</c> with command-line configuration), its output kept in a log
/// file and a bounded in-memory tail. Started by <see cref="SiloCluster"/>; killed with SIGKILL, paused with SIGSTOP.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private const int TailLines = 300;
    private readonly Queue<string> _tail = new();
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Process _process;

    private SiloProcess(int instance, Process process, string logFile, SiloPorts ports)
    {
        Instance = instance;
        _process = process;
        LogFile = logFile;
        Ports = ports;
        _log = new StreamWriter(logFile, append: true, Encoding.UTF8) { AutoFlush = true };
    }

    /// <summary>Instance number (1-based); every port is its base plus <c>Instance - 1</c>.</summary>
    public int Instance { get; }

    public SiloPorts Ports { get; }

    public string LogFile { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>When the process was last started, killed or paused (for measurements).</summary>
    public DateTimeOffset StartedAt { get; private set; }

    public static SiloProcess Start(int instance, SiloPorts ports, string logFile, IEnumerable<string> arguments)
    {
        var testAssembly = typeof(SiloProcess).Assembly.GetName().Name!;
        var dir = AppContext.BaseDirectory;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        // The silo runs on this test assembly's runtime config and dependency graph (it references the silo project).
        foreach (var a in (string[])["exec", "--runtimeconfig", Path.Combine(dir, testAssembly + ".runtimeconfig.json"),
                     "--depsfile", Path.Combine(dir, testAssembly + ".deps.json"), Path.Combine(dir, "MtActors.Silo.dll")])
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        // Nothing from the developer's environment decides where this silo's database is.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MtActors__", StringComparison.OrdinalIgnoreCase) ||
                                                             k.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase) ||
                                                             k.Equals("MTACTORS_DATA_DIR", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            psi.Environment.Remove(key);
        }

        psi.Environment["DOTNET_gcServer"] = "0";
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var silo = new SiloProcess(instance, process, logFile, ports);
        process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException("dotnet did not start");
        }

        silo.StartedAt = DateTimeOffset.UtcNow;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Waits for the host's "Application started" line and a 200 from its HTTP endpoint, bounded.</summary>
    public async Task WaitReadyAsync(TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        try
        {
            var exited = _process.WaitForExitAsync(cts.Token);
            var first = await Task.WhenAny(_started.Task, exited);
            if (first == exited || _process.HasExited)
            {
                throw new InvalidOperationException(
                    $"silo {Instance} exited with code {SafeExitCode()} before it was ready:\n{Tail()}");
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync(
                        new Uri($"http://127.0.0.1:{Ports.Http}/"), cts.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!cts.IsCancellationRequested)
                {
                }

                await Task.Delay(100, cts.Token);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"silo {Instance} was not ready within {bound.TotalSeconds:0} s:\n{Tail()}");
        }
    }

    /// <summary>kill -9: no clean deactivation, no final writes.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            Posix.Signal(_process.Id, Posix.SigKill);
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Note("killed with SIGKILL");
    }

    /// <summary>SIGSTOP: the process keeps its sockets but stops answering (a partition or a long GC pause).</summary>
    public void Suspend()
    {
        Posix.Signal(_process.Id, Posix.SigStop);
        Note("suspended with SIGSTOP");
    }

    /// <summary>SIGCONT.</summary>
    public void Resume()
    {
        Posix.Signal(_process.Id, Posix.SigCont);
        Note("resumed with SIGCONT");
    }

    /// <summary>Waits for the process to end on its own (bounded); false if it is still running.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan bound)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(bound);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The last lines the process printed.</summary>
    public string Tail()
    {
        lock (_tail)
        {
            return string.Join('\n', _tail);
        }
    }

    /// <summary>True when a printed line contains <paramref name="text"/> (within the kept tail).</summary>
    public bool Printed(string text)
    {
        lock (_tail)
        {
            return _tail.Any(l => l.Contains(text, StringComparison.Ordinal));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                Posix.Signal(_process.Id, Posix.SigCont); // a suspended process cannot die of anything but SIGKILL, but be tidy
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
        }
        finally
        {
            _process.Dispose();
            lock (_tail)
            {
                _log.Dispose();
            }
        }
    }

    private void Note(string what) => OnLine($"---- test: silo {Instance} (pid {SafePid()}) {what} at {DateTimeOffset.UtcNow:HH:mm:ss.fff}");

    private string SafePid()
    {
        try
        {
            return _process.Id.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    private string SafeExitCode()
    {
        try
        {
            return _process.ExitCode.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }

        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }

            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}

/// <summary>The ports of one silo instance (base ports of the cluster plus the instance offset).</summary>
internal sealed record SiloPorts(int Silo, int Gateway, int Http, int MtProto);
