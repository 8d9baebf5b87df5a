using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MtActors.Silo.Postgres;
using Npgsql;
using Orleans.Configuration;

namespace MtActors.Cluster.Tests.Infrastructure;

/// <summary>How a <see cref="SiloCluster"/> is started.</summary>
internal sealed record SiloClusterOptions
{
    /// <summary>Silos started at once (instances 1..N).</summary>
    public int Silos { get; init; } = 3;

    /// <summary>Extra command-line configuration for every silo.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>
    /// PostgreSQL with fsync and synchronous_commit on (a crash loses no acknowledged commit), for tests that crash
    /// the database; otherwise the faster throwaway settings.
    /// </summary>
    public bool DurablePostgres { get; init; }

    /// <summary>
    /// <see cref="SiloCluster.FastMembership"/> (a silo that misses two 1-s probes is declared dead by one vote): for
    /// tests that kill or freeze silos. Off, the silos keep the product's failure detection, so that a loaded 2-core
    /// machine (three silos starting at once) cannot get a healthy silo declared dead in a test that kills nobody.
    /// </summary>
    public bool FastFailureDetection { get; init; } = true;

    /// <summary>Bound on one silo's start (the machine is shared and loaded).</summary>
    public TimeSpan StartBound { get; init; } = TimeSpan.FromSeconds(120);
}

/// <summary>
/// N real silo processes on one throwaway PostgreSQL: a unique cluster id per run, ports offset by the instance
/// number, membership timeouts tuned so a killed silo is declared dead within a few seconds. Every process, the
/// database server and the temp directory are removed on dispose, also when a test failed.
/// </summary>
internal sealed class SiloCluster : IAsyncDisposable
{
    public const int MaxInstances = 6;

    /// <summary>Failure detection tuned for tests: a killed silo is declared dead in about 3..6 s.</summary>
    public static readonly IReadOnlyList<string> FastMembership =
    [
        "--MtActors:Membership:ProbeTimeout=00:00:01",
        "--MtActors:Membership:NumMissedProbesLimit=2",
        "--MtActors:Membership:TableRefreshTimeout=00:00:01",
        "--MtActors:Membership:IAmAliveTablePublishTimeout=00:00:02",
        "--MtActors:Membership:DeathVoteExpirationTimeout=00:00:10",
        "--MtActors:Membership:NumVotesForDeathDeclaration=1",
    ];

    private readonly Dictionary<int, SiloProcess> _silos = [];
    private readonly SiloClusterOptions _options;
    private readonly (int Silo, int Gateway, int Http, int MtProto) _base;
    private LocalPostgres _postgres;
    private readonly Dictionary<int, IHost> _clients = [];

    private SiloCluster(SiloClusterOptions options, LocalPostgres postgres, string root, (int, int, int, int) basePorts)
    {
        _options = options;
        _postgres = postgres;
        Root = root;
        _base = basePorts;
        ClusterId = "c" + Guid.NewGuid().ToString("N")[..12];
    }

    /// <summary>The RSA key every silo's MTProto gateway uses (one per cluster, so any silo completes a key exchange).</summary>
    public MtActors.Protocol.Handshake.RsaServerKey RsaKey { get; } = MtActors.Protocol.Handshake.RsaServerKey.Generate();

    /// <summary>The public half as MTProto clients pin it.</summary>
    public MtActors.Protocol.Client.Handshake.RsaPublicKey RsaPublicKey =>
        MtActors.Protocol.Client.Handshake.RsaPublicKey.FromPem(RsaKey.ExportPublicKeyPem());

    private string RsaKeyFile
    {
        get
        {
            var path = Path.Combine(Root, "rsa-key.pem");
            if (!File.Exists(path))
            {
                File.WriteAllText(path, RsaKey.ExportPrivateKeyPem());
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }

            return path;
        }
    }

    /// <summary>Temp directory of this run: silo logs and data directories.</summary>
    public string Root { get; }

    public string ClusterId { get; }

    public LocalPostgres Postgres => _postgres;

    public string ConnectionString => _postgres.ConnectionString;

    public IReadOnlyDictionary<int, SiloProcess> Silos => _silos;

    public SiloProcess this[int instance] => _silos[instance];

    public static async Task<SiloCluster> StartAsync(SiloClusterOptions? options = null)
    {
        options ??= new SiloClusterOptions();
        if (options.Silos is < 1 or > MaxInstances)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Silos, "1.." + MaxInstances);
        }

        var root = Path.Combine(Path.GetTempPath(), "mtactors-cluster-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        LocalPostgres? pg = null;
        SiloCluster? cluster = null;
        try
        {
            pg = await LocalPostgres.StartAsync(new LocalPostgresOptions
            {
                RootDirectory = Path.Combine(root, "postgres"),
                Throwaway = !options.DurablePostgres,
                MaxConnections = 300,
            });
            await SchemaMigrator.ApplyAsync(pg.ConnectionString);
            cluster = new SiloCluster(options, pg, root, FreePortBlocks());
            await Task.WhenAll(Enumerable.Range(1, options.Silos).Select(i => cluster.StartSiloAsync(i)));
            return cluster;
        }
        catch
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }
            else
            {
                if (pg is not null)
                {
                    await pg.DisposeAsync();
                }

                TryDelete(root);
            }

            throw;
        }
    }

    public SiloPorts PortsOf(int instance) =>
        new(_base.Silo + instance - 1, _base.Gateway + instance - 1, _base.Http + instance - 1, _base.MtProto + instance - 1);

    /// <summary>Starts (or restarts after a kill) silo <paramref name="instance"/> and waits until it is ready.</summary>
    public async Task<SiloProcess> StartSiloAsync(int instance, params string[] extra)
    {
        if (_silos.TryGetValue(instance, out var old))
        {
            if (!old.HasExited)
            {
                throw new InvalidOperationException($"silo {instance} is still running");
            }

            await old.DisposeAsync();
        }

        var dataDirectory = Path.Combine(Root, "silo" + instance.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dataDirectory);
        string[] args =
        [
            $"--ConnectionStrings:MtActors={ConnectionString}",
            $"--MtActors:ClusterId={ClusterId}",
            $"--MtActors:ServiceId={ClusterId}",
            $"--MtActors:Instance={instance}",
            $"--MtActors:SiloPort={_base.Silo}",
            $"--MtActors:GatewayPort={_base.Gateway}",
            $"--MtActors:Http:Port={_base.Http}",
            $"--MtActors:MtProto:Port={_base.MtProto}",
            $"--MtActors:MtProto:RsaKeyFiles:0={RsaKeyFile}",
            $"--MtActors:DataDirectory={dataDirectory}",
            "--MtActors:MigrateOnStart=false",
            "--MtActors:ShutdownTimeoutSeconds=10",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
            "--Logging:Console:FormatterName=simple",
            "--Logging:Console:FormatterOptions:TimestampFormat=HH:mm:ss.fff ",
            .. (_options.FastFailureDetection ? FastMembership : []),
            .. _options.Arguments,
            .. extra,
        ];
        for (var attempt = 1; ; attempt++)
        {
            var silo = SiloProcess.Start(instance, PortsOf(instance), Path.Combine(Root, $"silo{instance}.log"), args);
            _silos[instance] = silo;
            try
            {
                await silo.WaitReadyAsync(_options.StartBound);
                return silo;
            }
            catch (InvalidOperationException ex) when (attempt == 1 && silo.HasExited)
            {
                // A process that died while starting (seen once as SIGABRT on the loaded machine) gets one more try;
                // its output stays in the log file.
                Console.Error.WriteLine($"silo {instance} died while starting, starting it again: {ex.Message.Split('\n')[0]}");
                await silo.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// An Orleans cluster client in this process, for grain-level checks: through any silo (membership table), or
    /// only through silo <paramref name="via"/>'s gateway (static list) so that a test decides where calls enter.
    /// Created once per choice; disposed with the cluster.
    /// </summary>
    public async Task<IClusterClient> ClientAsync(int? via = null)
    {
        var key = via ?? 0;
        if (_clients.TryGetValue(key, out var existing))
        {
            return existing.Services.GetRequiredService<IClusterClient>();
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ClusterId;
            });
            if (via is { } instance)
            {
                client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, PortsOf(instance).Gateway));
            }
            else
            {
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = ConnectionString;
                });
            }

            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
        });
        var host = builder.Build();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(bound.Token);
        _clients[key] = host;
        return host.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>
    /// The instance whose silo hosts the grain's activation now (management grain), or null. <paramref name="via"/>:
    /// ask through that silo's gateway only (<see cref="ClientAsync"/>), e.g. while another silo is frozen — a client of
    /// every gateway may still route the management call to the frozen one.
    /// </summary>
    public async Task<int?> LocateAsync(IAddressable grain, int? via = null)
    {
        var client = await ClientAsync(via);
        var address = await client.GetGrain<IManagementGrain>(0).GetActivationAddress(grain);
        for (var i = 1; i <= MaxInstances; i++)
        {
            if (address?.Endpoint.Port == PortsOf(i).Silo)
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>Membership rows of this cluster: silo port to Orleans status (3 = active, 6 = dead).</summary>
    public async Task<Dictionary<int, int>> MembershipAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT port, status, generation FROM membership WHERE deploymentid = @d ORDER BY generation", connection);
        command.Parameters.AddWithValue("d", ClusterId);
        var result = new Dictionary<int, int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            result[reader.GetInt32(0)] = reader.GetInt32(1); // the latest generation of each port wins
        }

        return result;
    }

    /// <summary>Waits (bounded) until the membership table says silo <paramref name="instance"/> is dead.</summary>
    public async Task<TimeSpan> WaitDeclaredDeadAsync(int instance, TimeSpan bound)
    {
        var started = DateTimeOffset.UtcNow;
        var port = PortsOf(instance).Silo;
        while (true)
        {
            if ((await MembershipAsync()).TryGetValue(port, out var status) && status == 6)
            {
                return DateTimeOffset.UtcNow - started;
            }

            if (DateTimeOffset.UtcNow - started > bound)
            {
                throw new TimeoutException($"silo {instance} not declared dead within {bound.TotalSeconds:0} s");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Replaces the PostgreSQL server: stops it like a crash (immediate), waits, starts it on the same port.</summary>
    public async Task RestartPostgresAsync(TimeSpan outage)
    {
        var old = _postgres;
        var root = old.RootDirectory;
        var port = old.Port;
        old.AbandonAsIfCrashed();
        var pgCtl = Path.Combine(PgBin(), "pg_ctl");
        string[] stop = ["stop", "-D", old.DataDirectory, "-m", "immediate", "-w", "-t", "30"];
        if (Environment.UserName == "root")
        {
            await RunAsync("runuser", ["-u", "postgres", "--", pgCtl, .. stop]);
        }
        else
        {
            await RunAsync(pgCtl, stop);
        }

        await Task.Delay(outage);
        _postgres = await LocalPostgres.StartAsync(new LocalPostgresOptions
        {
            RootDirectory = root,
            Port = port,
            Throwaway = !_options.DurablePostgres,
            MaxConnections = 300,
        });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Values)
        {
            try
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.StopAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or OrleansException or ObjectDisposedException)
            {
            }

            client.Dispose();
        }

        await Task.WhenAll(_silos.Values.Select(s => s.DisposeAsync().AsTask()));
        try
        {
            await _postgres.DisposeAsync();
        }
        finally
        {
            // MTACTORS_KEEP_CLUSTER_LOGS=1 keeps the silo logs for a look after a failure.
            if (Environment.GetEnvironmentVariable("MTACTORS_KEEP_CLUSTER_LOGS") == "1")
            {
                TryDelete(Path.Combine(Root, "postgres"));
            }
            else
            {
                TryDelete(Root);
            }
        }
    }

    private static string PgBin() => LocalPostgres.FindBinDirectory(Environment.GetEnvironmentVariable("PATH"), "/usr/lib/postgresql");

    private static async Task RunAsync(string file, string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await output} {await error}");
        }
    }

    /// <summary>Four blocks of <see cref="MaxInstances"/> consecutive free loopback ports (silo, gateway, HTTP, MTProto).</summary>
    private static (int, int, int, int) FreePortBlocks()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            // Below Linux's ephemeral range (32768..60999): outgoing connections cannot take these ports meanwhile.
            var start = Random.Shared.Next(20_000, 32_700 - 4 * 10) / 10 * 10;
            if (AllFree(start, 4 * 10))
            {
                return (start, start + 10, start + 20, start + 30);
            }
        }

        throw new InvalidOperationException("no block of free loopback ports found");
    }

    private static bool AllFree(int start, int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var p = start; p < start + count; p++)
            {
                var l = new TcpListener(IPAddress.Loopback, p);
                l.Start();
                listeners.Add(l);
            }

            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            foreach (var l in listeners)
            {
                l.Stop();
            }
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
