using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace MtActors.Silo.Postgres;

/// <summary>How a <see cref="LocalPostgres"/> server is created and run.</summary>
public sealed record LocalPostgresOptions
{
    /// <summary>
    /// Root directory of the server. Holds <c>data/</c> (PGDATA), <c>run/</c> (unix socket), <c>postgres.log</c> and
    /// <c>superuser.password</c>. Created when missing; initdb runs on first start only.
    /// </summary>
    public required string RootDirectory { get; init; }

    /// <summary>Loopback TCP port; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>Database created (when missing) after start; the connection string points at it.</summary>
    public string Database { get; init; } = "mtactors";

    /// <summary>
    /// Test mode: fsync, synchronous_commit and full_page_writes off, and the whole root directory is deleted when
    /// the server is stopped. Never use it for data that must survive.
    /// </summary>
    public bool Throwaway { get; init; }

    /// <summary>Bound on initdb, on start-up until connections are accepted, and on stop.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Directory with initdb, pg_ctl and postgres; null searches PATH, then /usr/lib/postgresql/*/bin.</summary>
    public string? BinDirectory { get; init; }

    /// <summary>max_connections of the server.</summary>
    public int MaxConnections { get; init; } = 200;
}

/// <summary>Thrown when a local PostgreSQL server cannot be found, created, started or stopped.</summary>
public sealed class LocalPostgresException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True when the server could not bind its port (another process took it).</summary>
    public bool PortTaken { get; init; }
}

/// <summary>
/// A PostgreSQL server this process manages itself, listening on 127.0.0.1 only: initdb on first start, started with
/// pg_ctl, a database created, stopped with <c>pg_ctl stop -m fast</c> on dispose. When this process runs as root,
/// initdb and postgres run as the <c>postgres</c> user (they refuse to run as root) through <c>runuser</c>, and the
/// root directory is owned by that user. A stale postmaster.pid from a crashed run does not block a restart.
/// </summary>
public sealed partial class LocalPostgres : IAsyncDisposable, IDisposable
{
    /// <summary>The superuser role created by initdb.</summary>
    public const string SuperUser = "postgres";

    /// <summary>What to tell a user whose machine has no PostgreSQL binaries.</summary>
    public const string InstallHint =
        "install them with `apt-get install -y postgresql` (Debian/Ubuntu; `dnf install -y postgresql-server` on " +
        "Fedora/RHEL, `apk add postgresql` on Alpine, `brew install postgresql` on macOS), or put the directory " +
        "holding initdb, pg_ctl and postgres on PATH";

    private readonly LocalPostgresOptions _options;
    private ILogger _logger;
    private readonly string _binDirectory;
    private readonly bool _asPostgresUser;
    private readonly SemaphoreSlim _stopGate = new(1, 1);
    private bool _stopped;
    private bool _started;
    private FileStream? _ownerLock;
    private bool _owner;
    private string _password = "";

    private LocalPostgres(LocalPostgresOptions options, ILogger logger, string binDirectory, bool asPostgresUser)
    {
        _options = options;
        _logger = logger;
        _binDirectory = binDirectory;
        _asPostgresUser = asPostgresUser;
        RootDirectory = Path.GetFullPath(options.RootDirectory);
        DataDirectory = Path.Combine(RootDirectory, "data");
        SocketDirectory = Path.Combine(RootDirectory, "run");
        LogFile = Path.Combine(RootDirectory, "postgres.log");
        PasswordFile = Path.Combine(RootDirectory, "superuser.password");
        ConnectionString = "";
    }

    /// <summary>Root directory (see <see cref="LocalPostgresOptions.RootDirectory"/>).</summary>
    public string RootDirectory { get; }

    /// <summary>PGDATA.</summary>
    public string DataDirectory { get; }

    /// <summary>Directory of the server's unix socket.</summary>
    public string SocketDirectory { get; }

    /// <summary>The server's log file.</summary>
    public string LogFile { get; }

    private string PasswordFile { get; }

    /// <summary>Loopback port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Npgsql connection string of <see cref="LocalPostgresOptions.Database"/> as the superuser.</summary>
    public string ConnectionString { get; private set; }

    /// <summary>Logger of the server's life cycle (set before start when the host's logging exists only then).</summary>
    public ILogger Logger
    {
        get => _logger;
        set => _logger = value ?? NullLogger.Instance;
    }

    /// <summary>Name of the database the connection string points at.</summary>
    public string Database => _options.Database;

    /// <summary>True while the server started by this instance has not been stopped.</summary>
    public bool IsRunning => _started && !_stopped;

    /// <summary>
    /// A throwaway server for tests in a fresh directory under the temp directory (fsync off, deleted on dispose).
    /// </summary>
    public static Task<LocalPostgres> StartThrowawayAsync(
        string database = "mtactors", ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var root = Path.Combine(Path.GetTempPath(), "mtactors-pg-" + Guid.NewGuid().ToString("N")[..12]);
        return StartAsync(new LocalPostgresOptions { RootDirectory = root, Database = database, Throwaway = true },
            logger, cancellationToken);
    }

    /// <summary>
    /// Creates (first run) and starts the server, then creates the database; bounded by the options' timeout. With
    /// port 0 a free port is picked, and another one if it was taken before the server could bind it.
    /// </summary>
    public static async Task<LocalPostgres> StartAsync(
        LocalPostgresOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = Create(options, logger);
            try
            {
                await server.StartAsync(cancellationToken).ConfigureAwait(false);
                return server;
            }
            catch (LocalPostgresException ex) when (options.Port == 0 && attempt < 3 && ex.PortTaken)
            {
                LogPortTaken(server._logger, server.Port);
            }
        }
    }

    /// <summary>
    /// Prepares a server without starting it: checks the options, finds the binaries, creates the directories and
    /// the superuser password, and fixes the port (a free one when 0), so that <see cref="ConnectionString"/> is known
    /// before <see cref="StartAsync(CancellationToken)"/>.
    /// </summary>
    public static LocalPostgres Create(LocalPostgresOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.RootDirectory);
        if (options.Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Port, "Port must be 0..65535.");
        }

        if (!IsValidIdentifier(options.Database))
        {
            throw new ArgumentException(
                $"Database name '{options.Database}' must be 1..63 characters of [A-Za-z0-9_], not starting with a digit.",
                nameof(options));
        }

        var bin = options.BinDirectory is { } configured
            ? CheckBinDirectory(configured)
            : FindBinDirectory(Environment.GetEnvironmentVariable("PATH"), "/usr/lib/postgresql");
        var server = new LocalPostgres(options, logger ?? NullLogger.Instance, bin, IsRoot());
        server.PrepareFiles();
        return server;
    }

    /// <summary>Starts a server made by <see cref="Create"/>: initdb on first run, pg_ctl start, database created.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("This LocalPostgres was already started.");
        }

        _started = true;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            await InitializeAndStartAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await StopCoreAsync(deleteIfThrowaway: true).ConfigureAwait(false);
            if (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new LocalPostgresException(
                    $"PostgreSQL in {RootDirectory} did not start within {_options.Timeout.TotalSeconds:0} s. " +
                    LogTail(), ex);
            }

            throw;
        }
    }

    /// <summary>
    /// Finds the directory holding initdb, pg_ctl and postgres: PATH first (symlinks resolved), then
    /// <paramref name="postgresLibRoot"/>/*/bin with the highest major version first.
    /// </summary>
    public static string FindBinDirectory(string? pathVariable, string postgresLibRoot)
    {
        foreach (var dir in (pathVariable ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var initdb = Path.Combine(dir, "initdb");
            if (!File.Exists(initdb))
            {
                continue;
            }

            var resolved = new FileInfo(initdb).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? initdb;
            var candidate = Path.GetDirectoryName(Path.GetFullPath(resolved))!;
            if (HasAllBinaries(candidate))
            {
                return candidate;
            }
        }

        if (Directory.Exists(postgresLibRoot))
        {
            var versions = Directory.EnumerateDirectories(postgresLibRoot)
                .Select(d => (Dir: d, Version: double.TryParse(Path.GetFileName(d), NumberStyles.Float,
                    CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(x => x.Version >= 0)
                .OrderByDescending(x => x.Version);
            foreach (var (dir, _) in versions)
            {
                var candidate = Path.Combine(dir, "bin");
                if (HasAllBinaries(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new LocalPostgresException(
            $"No PostgreSQL server binaries (initdb, pg_ctl, postgres) found on PATH or in {postgresLibRoot}/*/bin: " +
            InstallHint + ".");
    }

    private static string CheckBinDirectory(string dir) =>
        HasAllBinaries(dir)
            ? Path.GetFullPath(dir)
            : throw new LocalPostgresException(
                $"The PostgreSQL binary directory {dir} does not hold initdb, pg_ctl and postgres: {InstallHint}.");

    private static bool HasAllBinaries(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")) &&
        File.Exists(Path.Combine(dir, "postgres"));

    private async Task InitializeAndStartAsync(CancellationToken ct)
    {
        TakeOwnerLock();
        await CheckPostgresUserAsync(ct).ConfigureAwait(false);
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            await InitDbAsync(ct).ConfigureAwait(false);
        }
        else
        {
            await CheckVersionAsync(ct).ConfigureAwait(false);
        }

        await HandleExistingPidFileAsync(ct).ConfigureAwait(false);
        await WriteSettingsAsync(Port, ct).ConfigureAwait(false);
        var (exit, output) = await RunPgAsync("pg_ctl",
            ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-s",
             "-t", ((int)Math.Max(1, _options.Timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture)],
            ct).ConfigureAwait(false);
        if (exit != 0)
        {
            var log = LogTail();
            throw new LocalPostgresException(
                $"pg_ctl start failed for {DataDirectory} on port {Port} (exit {exit}): {output.Trim()} {log}")
            {
                PortTaken = log.Contains("could not bind", StringComparison.OrdinalIgnoreCase) ||
                            log.Contains("already in use", StringComparison.OrdinalIgnoreCase),
            };
        }

        await EnsureDatabaseAsync(BuildConnectionString(_password, "postgres"), ct).ConfigureAwait(false);
        if (_options.Throwaway)
        {
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        }

        LogStarted(_logger, Port, DataDirectory, _options.Throwaway);
    }

    private string BuildConnectionString(string password, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Password = password,
        Database = database,
        Timeout = 5,
    }.ConnectionString;

    private void PrepareFiles()
    {
        Directory.CreateDirectory(RootDirectory);
        Directory.CreateDirectory(SocketDirectory);
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        SetMode(RootDirectory, ownerOnly);
        SetMode(SocketDirectory, ownerOnly);
        if (!File.Exists(PasswordFile))
        {
            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
            File.WriteAllText(PasswordFile, password + "\n");
            SetMode(PasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        _password = File.ReadAllText(PasswordFile).Trim();
        Port = _options.Port == 0 ? FreeLoopbackPort() : _options.Port;
        ConnectionString = BuildConnectionString(_password, _options.Database);
    }

    /// <summary>
    /// An exclusive lock on <c>owner.lock</c> for as long as this instance runs the server: a second process (another
    /// silo with the same data directory) is refused instead of stopping a server in use, and a server whose lock is
    /// free was left by a process that is gone. The operating system releases the lock when a process dies.
    /// </summary>
    private void TakeOwnerLock()
    {
        try
        {
            _ownerLock = new FileStream(Path.Combine(RootDirectory, "owner.lock"), FileMode.OpenOrCreate,
                FileAccess.ReadWrite, FileShare.None);
            _owner = true;
        }
        catch (IOException ex)
        {
            throw new LocalPostgresException(
                $"The PostgreSQL server in {RootDirectory} is in use by another process (another silo with the same " +
                "data directory?). Stop it, or give this one its own data directory or a connection string.", ex);
        }
    }

    /// <summary>Test support: forget the server without stopping it, as a crashed process would.</summary>
    internal void AbandonAsIfCrashed()
    {
        _stopped = true;
        _owner = false;
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        _ownerLock?.Dispose();
        _ownerLock = null;
    }

    private async Task CheckPostgresUserAsync(CancellationToken ct)
    {
        if (!_asPostgresUser)
        {
            return;
        }

        // Only what this class creates itself; initdb and the server create the rest as postgres.
        var (exit, output) = await RunAsync("chown",
            ["postgres:postgres", RootDirectory, SocketDirectory, PasswordFile], asPostgres: false, ct)
            .ConfigureAwait(false);
        if (exit != 0)
        {
            throw new LocalPostgresException(
                $"Running as root, PostgreSQL runs as the 'postgres' user, but chown of {RootDirectory} failed " +
                $"({output.Trim()}). The postgresql package creates that user: {InstallHint}.");
        }

        var (reach, _) = await RunAsync("test", ["-w", RootDirectory], asPostgres: true, ct).ConfigureAwait(false);
        if (reach != 0)
        {
            throw new LocalPostgresException(
                $"Running as root, PostgreSQL runs as the 'postgres' user, which cannot reach {RootDirectory}: " +
                "every parent directory must be searchable by it (for example /root is not). Choose a directory " +
                "elsewhere, such as /var/lib/mtactors.");
        }
    }

    private async Task InitDbAsync(CancellationToken ct)
    {
        if (Directory.Exists(DataDirectory) && Directory.EnumerateFileSystemEntries(DataDirectory).Any())
        {
            throw new LocalPostgresException(
                $"{DataDirectory} is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away or delete it.");
        }

        LogInitDb(_logger, DataDirectory);
        var (exit, output) = await RunPgAsync("initdb",
            ["-D", DataDirectory, "-U", SuperUser, "--pwfile", PasswordFile, "--auth-host=scram-sha-256",
             "--auth-local=peer", "-E", "UTF8", "--no-locale", "--no-instructions"],
            ct).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new LocalPostgresException($"initdb failed for {DataDirectory} (exit {exit}): {output.Trim()}");
        }

        var conf = Path.Combine(DataDirectory, "postgresql.conf");
        await File.AppendAllTextAsync(conf,
            "\n# Managed by MtActors: port, sockets and durability live in this file, rewritten at every start.\n" +
            "include_if_exists = 'mtactors.conf'\n", ct).ConfigureAwait(false);
    }

    private async Task CheckVersionAsync(CancellationToken ct)
    {
        var dataVersion = (await File.ReadAllTextAsync(Path.Combine(DataDirectory, "PG_VERSION"), ct)
            .ConfigureAwait(false)).Trim();
        var (exit, output) = await RunPgAsync("postgres", ["--version"], ct).ConfigureAwait(false);
        var binMajor = exit == 0 ? MajorVersion().Match(output) : null;
        if (binMajor is { Success: true } && binMajor.Groups[1].Value != dataVersion)
        {
            throw new LocalPostgresException(
                $"{DataDirectory} was created by PostgreSQL {dataVersion} but the binaries in {_binDirectory} are " +
                $"version {binMajor.Groups[1].Value}; install PostgreSQL {dataVersion} or upgrade the data with pg_upgrade.");
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\) (\d+)")]
    private static partial System.Text.RegularExpressions.Regex MajorVersion();

    private async Task HandleExistingPidFileAsync(CancellationToken ct)
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return;
        }

        var firstLine = File.ReadLines(pidFile).FirstOrDefault()?.Trim();
        var alive = int.TryParse(firstLine, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) &&
                    IsPostgresProcess(pid);
        if (!alive)
        {
            LogStalePid(_logger, firstLine ?? "", DataDirectory);
            File.Delete(pidFile);
            return;
        }

        // A server left running on this data directory by a crashed run: stop it, then start with our settings.
        LogLeftover(_logger, pid, DataDirectory);
        var (exit, output) = await RunPgAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-s"], ct)
            .ConfigureAwait(false);
        if (exit != 0 && File.Exists(pidFile))
        {
            throw new LocalPostgresException(
                $"A PostgreSQL server (pid {pid}) is running on {DataDirectory} and could not be stopped: {output.Trim()}");
        }
    }

    private static bool IsPostgresProcess(int pid)
    {
        try
        {
            var comm = File.ReadAllText($"/proc/{pid}/comm").Trim();
            return comm.StartsWith("postgres", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    private async Task WriteSettingsAsync(int port, CancellationToken ct)
    {
        var sb = new StringBuilder();
        sb.Append("# Written by MtActors at every start; edit postgresql.conf for your own settings.\n");
        sb.Append(CultureInfo.InvariantCulture, $"port = {port}\n");
        sb.Append("listen_addresses = '127.0.0.1'\n");
        sb.Append(CultureInfo.InvariantCulture, $"unix_socket_directories = '{SocketDirectory.Replace("'", "''")}'\n");
        sb.Append("unix_socket_permissions = 0700\n");
        sb.Append(CultureInfo.InvariantCulture, $"max_connections = {_options.MaxConnections}\n");
        sb.Append("logging_collector = off\n");
        if (_options.Throwaway)
        {
            sb.Append("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
            sb.Append("shared_buffers = 32MB\nmax_wal_size = 256MB\ncheckpoint_timeout = 30min\n");
        }
        else
        {
            sb.Append("fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n");
        }

        var path = Path.Combine(DataDirectory, "mtactors.conf");
        await File.WriteAllTextAsync(path, sb.ToString(), ct).ConfigureAwait(false);
        SetMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (_asPostgresUser)
        {
            await RunAsync("chown", ["postgres:postgres", path], asPostgres: false, ct).ConfigureAwait(false);
        }
    }

    private async Task EnsureDatabaseAsync(string adminConnectionString, CancellationToken ct)
    {
        // pg_ctl -w has seen the server ready; still retry briefly (bounded by ct) in case it is mid-recovery.
        while (true)
        {
            try
            {
                await using var conn = new NpgsqlConnection(adminConnectionString);
                await conn.OpenAsync(ct).ConfigureAwait(false);
                await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn);
                exists.Parameters.Add(new NpgsqlParameter { Value = _options.Database });
                if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
                {
                    // The name was validated as a plain identifier.
                    await using var create = new NpgsqlCommand($"CREATE DATABASE \"{_options.Database}\"", conn);
                    await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                return;
            }
            catch (NpgsqlException ex) when (!ct.IsCancellationRequested && ex.SqlState is null or "57P03")
            {
                await Task.Delay(200, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops the server (pg_ctl stop -m fast); a throwaway server's directory is deleted.</summary>
    public Task StopAsync() => StopCoreAsync(deleteIfThrowaway: true);

    private async Task StopCoreAsync(bool deleteIfThrowaway)
    {
        await _stopGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            NpgsqlConnection.ClearAllPools();
            if (_owner && File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                using var timeout = new CancellationTokenSource(_options.Timeout);
                try
                {
                    var (exit, output) = await RunPgAsync("pg_ctl",
                        ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-s"], timeout.Token).ConfigureAwait(false);
                    if (exit != 0)
                    {
                        LogStopFailed(_logger, DataDirectory, output.Trim());
                    }
                    else if (Port != 0)
                    {
                        LogStopped(_logger, Port, DataDirectory);
                    }
                }
                catch (OperationCanceledException)
                {
                    LogStopFailed(_logger, DataDirectory, "timed out");
                }
            }

            _ownerLock?.Dispose();
            _ownerLock = null;
            if (deleteIfThrowaway && _options.Throwaway && _owner)
            {
                try
                {
                    Directory.Delete(RootDirectory, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    LogDeleteFailed(_logger, RootDirectory, ex.Message);
                }
            }
        }
        finally
        {
            _stopGate.Release();
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => StopCoreAsync(true).GetAwaiter().GetResult();

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public void Dispose() => StopAsync().GetAwaiter().GetResult();

    private string LogTail()
    {
        try
        {
            if (!File.Exists(LogFile))
            {
                return "";
            }

            var lines = File.ReadAllLines(LogFile);
            return $"Last lines of {LogFile}: " + string.Join(" | ", lines.TakeLast(8));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private Task<(int Exit, string Output)> RunPgAsync(string tool, IReadOnlyList<string> args, CancellationToken ct) =>
        RunAsync(Path.Combine(_binDirectory, tool), args, _asPostgresUser, ct);

    private async Task<(int Exit, string Output)> RunAsync(
        string fileName, IReadOnlyList<string> args, bool asPostgres, CancellationToken ct)
    {
        var psi = new ProcessStartInfo
        {
            FileName = asPostgres ? "runuser" : fileName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RootDirectory,
        };
        if (asPostgres)
        {
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("postgres");
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(fileName);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // Server messages in English whatever the caller's locale, so that errors can be read and matched.
        psi.Environment["LC_ALL"] = "C";
        psi.Environment.Remove("PGDATA");
        psi.Environment.Remove("PGPORT");

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new LocalPostgresException($"Could not start {psi.FileName}.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new LocalPostgresException($"Could not run {psi.FileName}: {ex.Message}. {InstallHint}.", ex);
        }

        using (process)
        {
            process.StandardInput.Close();
            // pg_ctl start leaves the server holding inherited handles only if we pass them; it redirects to -l.
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            try
            {
                await process.WaitForExitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }

                throw;
            }

            return (process.ExitCode, (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false)));
        }
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>A loopback TCP port that was free a moment ago.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsValidIdentifier(string name) =>
        name.Length is > 0 and <= 63 && !char.IsAsciiDigit(name[0]) &&
        name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static bool IsRoot() => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? GetEuid() == 0 : false;

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LoggerMessage(Level = LogLevel.Information, Message = "Creating a PostgreSQL cluster with initdb in {DataDirectory}")]
    private static partial void LogInitDb(ILogger logger, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "PostgreSQL started on 127.0.0.1:{Port} with data in {DataDirectory} (throwaway: {Throwaway})")]
    private static partial void LogStarted(ILogger logger, int port, string dataDirectory, bool throwaway);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL on port {Port} stopped ({DataDirectory})")]
    private static partial void LogStopped(ILogger logger, int port, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing stale postmaster.pid (pid {Pid}, not running) in {DataDirectory}")]
    private static partial void LogStalePid(ILogger logger, string pid, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "A PostgreSQL server (pid {Pid}) left by an earlier run is still running on {DataDirectory}; stopping it")]
    private static partial void LogLeftover(ILogger logger, int pid, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Port {Port} was taken before PostgreSQL could bind it; trying another")]
    private static partial void LogPortTaken(ILogger logger, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping PostgreSQL in {DataDirectory} failed: {Reason}")]
    private static partial void LogStopFailed(ILogger logger, string dataDirectory, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete the throwaway PostgreSQL directory {Directory}: {Reason}")]
    private static partial void LogDeleteFailed(ILogger logger, string directory, string reason);
}
