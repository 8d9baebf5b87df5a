using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using MtActors.Protocol.Client;
using MtActors.Protocol.Client.Handshake;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Transport;

namespace MtActors.Client.Bench;

internal enum BenchMode
{
    Ping,
    Echo,
}

/// <summary>Everything one bench run needs (validated by the command).</summary>
internal sealed record BenchSettings(
    string Host,
    int Port,
    IReadOnlyList<RsaPublicKey> ServerKeys,
    int DcId,
    int Connections,
    int Sessions,
    BenchMode Mode,
    int Payload,
    int Depth,
    TimeSpan Duration,
    long? Count,
    TimeSpan Warmup,
    TransportKind Transport,
    bool Obfuscated,
    string? KeyCachePath,
    bool NewKeys,
    TimeSpan CallTimeout,
    double? Rate = null,
    int Rounds = 1)
{
    public string Server => $"{Host}:{Port}";

    public string TransportName => (Transport switch
    {
        TransportKind.Abridged => "abridged",
        TransportKind.Intermediate => "intermediate",
        TransportKind.PaddedIntermediate => "padded",
        _ => "full",
    }) + (Obfuscated ? "+obfuscated" : "");

    /// <summary>The body of one request (ping, or mtactors.echo with the payload).</summary>
    public byte[] RequestBody() => Mode == BenchMode.Ping ? new Ping(1).ToBytes() : ClientMessages.EchoQuery(new byte[Payload]);

    /// <summary>Size of one encrypted request frame's payload: what the baseline sends.</summary>
    public int FrameBytes => MessageCipher.GetEncryptedLength(RequestBody().Length);
}

/// <summary>What one measured phase did.</summary>
internal sealed record BenchResult(
    string Kind, long Operations, long Errors, string? FirstError, double Seconds, double Rate, double P50Ms, double P99Ms,
    double MaxMs, double MeanMs, int Workers, double ProcessCpuSeconds = 0)
{
    /// <summary>This process's CPU time per operation in microseconds (the load generator's own cost; with --baseline the echo server runs here too).</summary>
    public double ProcessCpuMicrosPerOp => Operations > 0 ? ProcessCpuSeconds * 1e6 / Operations : 0;

    /// <summary>This process's CPU time over the measurement, in cores.</summary>
    public double ProcessCores => Seconds > 0 ? ProcessCpuSeconds / Seconds : 0;

    public string Text(string unit) => string.Create(CultureInfo.InvariantCulture,
        $"{Kind}: {Operations:N0} {unit} in {Seconds:0.00} s = {Rate:N0}/s; latency p50 {P50Ms:0.###} ms, p99 {P99Ms:0.###} ms, max {MaxMs:0.###} ms, mean {MeanMs:0.###} ms; {Workers} in flight; " +
        $"this process's CPU {ProcessCpuMicrosPerOp:0.0} us per {unit.TrimEnd('s')} ({ProcessCores:0.00} cores); errors {Errors:N0}{(FirstError is null ? "" : $" (first: {FirstError})")}");
}

/// <summary>The load generator's engine: sets up connections and sessions, runs workers, measures, reports progress.</summary>
internal sealed class BenchRunner(BenchSettings settings, TextWriter progress, bool showProgress, CancellationToken ct)
{
    private MtProtoConnectionOptions ConnectionOptions => new()
    {
        Transport = settings.Transport,
        Obfuscated = settings.Obfuscated,
        ConnectTimeout = settings.CallTimeout,
        HandshakeTimeout = settings.CallTimeout,
    };

    private ClientHandshakeOptions HandshakeOptions => new() { ServerKeys = settings.ServerKeys, DcId = settings.DcId };

    /// <summary>Encrypted round trips through the server (gateway + session grain).</summary>
    public async Task<(BenchResult Result, int KeysCreated, int KeysReused)> RunMtProtoAsync()
    {
        var connections = new List<MtProtoConnection>();
        var sessions = new List<MtProtoSession>();
        int created = 0, reused = 0;
        try
        {
            var cache = settings.KeyCachePath is null ? [] : KeyCache.Load(settings.KeyCachePath);
            var fingerprints = settings.ServerKeys.Select(k => k.Fingerprint).ToHashSet();
            var usable = settings.NewKeys ? [] : cache.Where(k => k.Server == settings.Server && fingerprints.Contains(k.Fingerprint)).ToList();
            var keys = new CachedKey[settings.Connections];
            var connect = Enumerable.Range(0, settings.Connections).Select(async i =>
            {
                var connection = await Connect(() => MtProtoConnection.ConnectAsync(settings.Host, settings.Port, ConnectionOptions, ct)).ConfigureAwait(false);
                lock (connections) connections.Add(connection);
                if (i < usable.Count)
                {
                    keys[i] = usable[i];
                    Interlocked.Increment(ref reused);
                }
                else
                {
                    var key = await connection.CreateAuthKeyAsync(HandshakeOptions, ct).ConfigureAwait(false);
                    keys[i] = new CachedKey(settings.Server, settings.ServerKeys[0].Fingerprint, key.Key, key.InitialSalt, key.CreatedAt);
                    Interlocked.Increment(ref created);
                }
                var sessionOptions = new MtProtoSessionOptions { CallTimeout = settings.CallTimeout, HistorySize = 0 };
                var mine = new List<MtProtoSession>();
                for (int s = 0; s < settings.Sessions; s++) mine.Add(connection.OpenSession(keys[i].Key, keys[i].Salt, sessionOptions));
                lock (sessions) sessions.AddRange(mine);
                // One ping per session first: session creation and salt recovery stay out of the measurement.
                await Task.WhenAll(mine.Select(m => m.PingAsync(cancellationToken: ct))).ConfigureAwait(false);
                keys[i] = keys[i] with { Salt = mine[0].Salt };
            }).ToArray();
            try
            {
                await Task.WhenAll(connect).ConfigureAwait(false);
            }
            catch (TransportErrorException ex) when (ex.Code == -404 && reused > 0)
            {
                throw new CliException(ExitCodes.Failure,
                    $"the server does not know a cached auth key (-404): run with --new-keys or delete {settings.KeyCachePath}");
            }
            catch (HandshakeFailedException ex)
            {
                throw new CliException(ExitCodes.Failure, ex.Message, ex);
            }
            catch (TransportErrorException ex)
            {
                throw new CliException(ExitCodes.Failure, ex.Message, ex);
            }
            if (settings.KeyCachePath is not null && created > 0)
            {
                var keep = cache.Where(k => !keys.Any(n => n.Key.Id == k.Key.Id)).Concat(keys);
                KeyCache.Save(settings.KeyCachePath, keep);
            }

            var body = settings.RequestBody();
            var workers = new List<Func<Task>>();
            foreach (var session in sessions)
            {
                for (int d = 0; d < settings.Depth; d++)
                {
                    workers.Add(settings.Mode == BenchMode.Ping
                        ? () => session.PingAsync(cancellationToken: ct)
                        : () => session.InvokeAsync(body, ct));
                }
            }
            var result = await MeasureAsync(settings.Mode == BenchMode.Ping ? "mtproto ping" : "mtproto echo", workers).ConfigureAwait(false);
            return (result, created, reused);
        }
        finally
        {
            foreach (var s in sessions) await s.DisposeAsync().ConfigureAwait(false);
            foreach (var c in connections) await c.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The same number of connections and in-flight frames against a bare echo server.</summary>
    public async Task<BenchResult> RunBareAsync(string host, int port)
    {
        var connections = new List<BareConnection>();
        try
        {
            var connect = Enumerable.Range(0, settings.Connections).Select(async _ =>
            {
                var c = await Connect(() => BareConnection.ConnectAsync(host, port, settings.Transport, settings.Obfuscated, settings.FrameBytes,
                    settings.CallTimeout, ct)).ConfigureAwait(false);
                lock (connections) connections.Add(c);
                await c.RoundTripAsync().WaitAsync(settings.CallTimeout, ct).ConfigureAwait(false);
            });
            await Task.WhenAll(connect).ConfigureAwait(false);
            var workers = new List<Func<Task>>();
            foreach (var c in connections)
            {
                for (int i = 0; i < settings.Sessions * settings.Depth; i++) workers.Add(() => c.RoundTripAsync().WaitAsync(settings.CallTimeout, ct));
            }
            return await MeasureAsync("bare echo", workers).ConfigureAwait(false);
        }
        finally
        {
            foreach (var c in connections) await c.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Auth-key creations end to end: a new TCP connection and a full key exchange each, <see cref="BenchSettings.Connections"/> at a time.</summary>
    public Task<BenchResult> RunHandshakesAsync()
    {
        var workers = Enumerable.Range(0, settings.Connections).Select<int, Func<Task>>(_ => async () =>
        {
            await using var connection = await Connect(() => MtProtoConnection.ConnectAsync(settings.Host, settings.Port, ConnectionOptions, ct)).ConfigureAwait(false);
            await connection.CreateAuthKeyAsync(HandshakeOptions, ct).ConfigureAwait(false);
        }).ToList();
        return MeasureAsync("handshakes", workers);
    }

    private async Task<T> Connect<T>(Func<Task<T>> connect)
    {
        try
        {
            return await connect().ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new CliException(ExitCodes.NoCluster, $"cannot connect to {settings.Server}: {ex.Message}");
        }
        catch (TimeoutException ex)
        {
            throw new CliException(ExitCodes.Timeout, ex.Message);
        }
    }

    /// <summary>
    /// Runs every worker in a loop: warm-up (not recorded), then the measured phase for the duration or until the count is
    /// reached; prints progress once a second.
    /// </summary>
    private async Task<BenchResult> MeasureAsync(string kind, List<Func<Task>> workers)
    {
        var histogram = new LatencyHistogram();
        long completed = 0, errors = 0, issued = 0;
        string? firstError = null;
        bool recording = settings.Warmup <= TimeSpan.Zero;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long measuredStart = Stopwatch.GetTimestamp();
        TimeSpan cpuStart = ProcessCpu();
        // --rate: round trips start on a shared schedule (slot n at n / rate seconds), each by a free worker; a worker
        // never waits for a slot that is already due, so a server slower than the rate is simply saturated.
        long paceStart = Stopwatch.GetTimestamp();
        long slots = 0;
        double ticksPerSlot = settings.Rate is double target ? Stopwatch.Frequency / target : 0;

        async Task Worker(Func<Task> op)
        {
            while (!stop.IsCancellationRequested)
            {
                bool counted = Volatile.Read(ref recording);
                if (counted && settings.Count is long limit && Interlocked.Increment(ref issued) > limit) break;
                if (ticksPerSlot > 0)
                {
                    long due = paceStart + (long)(Interlocked.Increment(ref slots) * ticksPerSlot);
                    long wait = due - Stopwatch.GetTimestamp();
                    if (wait > 0)
                    {
                        try
                        {
                            await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), stop.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (stop.IsCancellationRequested)
                        {
                            break;
                        }
                    }
                }
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    await op().ConfigureAwait(false);
                    if (counted)
                    {
                        histogram.RecordSince(t0);
                        Interlocked.Increment(ref completed);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, Cli.OneLine(ex), null);
                    if (ex is ConnectionClosedException or TransportErrorException or ObjectDisposedException or CliException) break;
                }
            }
        }

        var tasks = workers.Select(w => Task.Run(() => Worker(w))).ToArray();
        var all = Task.WhenAll(tasks);
        if (!recording)
        {
            await Task.WhenAny(all, Task.Delay(settings.Warmup, ct)).ConfigureAwait(false);
            Volatile.Write(ref recording, true);
            measuredStart = Stopwatch.GetTimestamp();
            cpuStart = ProcessCpu();
        }
        var deadline = settings.Count is null ? measuredStart + (long)(settings.Duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        long lastCount = 0;
        long lastTime = measuredStart;
        int second = 0;
        while (!all.IsCompleted)
        {
            long now = Stopwatch.GetTimestamp();
            long wait = Math.Min(Stopwatch.Frequency, deadline - now);
            if (wait <= 0) break;
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct)).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            now = Stopwatch.GetTimestamp();
            long count = Interlocked.Read(ref completed);
            if (showProgress && now - lastTime >= Stopwatch.Frequency / 2)
            {
                second++;
                double rate = (count - lastCount) * (double)Stopwatch.Frequency / (now - lastTime);
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  {kind} {second,3} s  {rate,10:N0}/s  p50 {histogram.Percentile(50) / 1000:0.###} ms  p99 {histogram.Percentile(99) / 1000:0.###} ms  errors {Interlocked.Read(ref errors)}")).ConfigureAwait(false);
                lastCount = count;
                lastTime = now;
            }
        }
        long end = Stopwatch.GetTimestamp();
        double cpuSeconds = (ProcessCpu() - cpuStart).TotalSeconds;
        long done = Interlocked.Read(ref completed);
        stop.Cancel();
        await Task.WhenAny(all, Task.Delay(settings.CallTimeout + TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        double seconds = (end - measuredStart) / (double)Stopwatch.Frequency;
        return new BenchResult(kind, done, Interlocked.Read(ref errors), firstError, seconds, seconds > 0 ? done / seconds : 0,
            histogram.Percentile(50) / 1000, histogram.Percentile(99) / 1000, histogram.Max / 1000.0, histogram.Mean / 1000, workers.Count, cpuSeconds);
    }

    private static TimeSpan ProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
