using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MtActors.Client.Bench;
using MtActors.Client.Commands;
using MtActors.Protocol.Client.Handshake;
using MtActors.Protocol.Transport;

namespace MtActors.Client;

public static partial class Cli
{
    /// <summary>Public-key file the silo writes in its data directory (src/Silo/Rsa: mtproto/server-rsa-public.pem).</summary>
    private const string SiloPublicKeyFile = "mtproto/server-rsa-public.pem";

    static partial void AddBench(Command root, CommandContext context)
    {
        var host = new Option<string>("--host") { Description = "MTProto server address", DefaultValueFactory = _ => "127.0.0.1" };
        var port = IntOption("--port", "MTProto TCP port of the silo", 5222, 1, 65535);
        var rsaKey = new Option<string?>("--rsa-key")
        {
            Description = "PEM file with the server's RSA public key(s) (default: the local silo's " + SiloPublicKeyFile + " in its data directory)",
            HelpName = "file",
        };
        var dc = IntOption("--dc", "DC id sent in the key exchange (the gateway's MtActors:MtProto:DcId)", 2, -32767, 32767);
        var connections = IntOption("--connections", "TCP connections (for --handshakes: exchanges at a time)", 1, 1, 10000);
        var sessions = IntOption("--sessions", "Sessions per connection (all on the connection's auth key)", 1, 1, 1000);
        var depth = IntOption("--depth", "Calls in flight per session (pipelining)", 1, 1, 10000);
        var mode = new Option<string>("--mode") { Description = "ping: ping -> pong; echo: mtactors.echo RPC through the session grain's API", DefaultValueFactory = _ => "ping" };
        mode.AcceptOnlyFromAmong("ping", "echo");
        var payload = IntOption("--payload", "Bytes carried by each echo call", 16, 0, 1 << 20);
        var duration = new Option<double>("--duration") { Description = "Seconds measured (after the warm-up)", DefaultValueFactory = _ => 10, HelpName = "seconds" };
        var count = new Option<long?>("--count") { Description = "Round trips measured instead of a duration", HelpName = "n" };
        var rate = new Option<double?>("--rate") { Description = "Round trips started per second in all (a paced load, e.g. 80 % of the saturation rate); default: as fast as the in-flight calls allow", HelpName = "n" };
        var rounds = IntOption("--rounds", "With --baseline: this many interleaved pairs (bare echo, then MTProto); the median ratio is reported", 1, 1, 100);
        var warmup = new Option<double>("--warmup") { Description = "Seconds of traffic before measuring", DefaultValueFactory = _ => 1, HelpName = "seconds" };
        var transport = new Option<string>("--transport") { Description = "MTProto transport framing", DefaultValueFactory = _ => "intermediate" };
        transport.AcceptOnlyFromAmong("abridged", "intermediate", "padded", "full");
        var obfuscated = new Option<bool>("--obfuscated") { Description = "AES-CTR obfuscation around the framing (not with full)" };
        var keyCache = new Option<string?>("--key-cache") { Description = "JSON file of auth keys kept between runs (made readable by you only): repeated runs skip the key exchanges", HelpName = "file" };
        var newKeys = new Option<bool>("--new-keys") { Description = "Create new auth keys even when the cache has some (the cache gets them)" };
        var handshakes = new Option<bool>("--handshakes") { Description = "Measure auth-key creations per second end to end (a TCP connection and a key exchange each)" };
        var bare = new Option<bool>("--bare") { Description = "The target is a bare echo server (mtactors bench echo-server): same frames, no MTProto" };
        var baseline = new Option<bool>("--baseline") { Description = "First run the same load against an in-process bare echo server, then the real one; print the ratio" };
        duration.InRange(0.1, 86400);
        warmup.InRange(0, 3600);
        rate.Validators.Add(r =>
        {
            if (r.TryGetValue(out double? v) && v is double x && (double.IsNaN(x) || x < 1 || x > 10_000_000)) r.AddError("--rate must be 1..10000000");
        });
        count.Validators.Add(r =>
        {
            if (r.TryGetValue(out long? n) && n < 1) r.AddError("--count must be at least 1");
        });

        var bench = new Command("bench",
            "Load generator: N connections x M sessions speaking MTProto to a silo's gateway (ping or an echo RPC, " +
            "pipelined), or auth-key creations (--handshakes); progress once a second on stderr, then throughput and " +
            "p50 / p99 / max latency. --baseline also measures a bare echo server with the same frames and prints the ratio. " +
            "Exit code 1 when any call failed.");
        foreach (var o in new Option[] { host, port, rsaKey, dc, connections, sessions, depth, mode, payload, duration, count, warmup, rate, rounds, transport, obfuscated,
                     keyCache, newKeys, handshakes, bare, baseline })
        {
            bench.Options.Add(o);
        }
        bench.Validators.Add(r =>
        {
            if (r.GetValue(obfuscated) && r.GetValue(transport) == "full") r.AddError("--obfuscated does not go with --transport full");
            if (r.GetValue(bare) && (r.GetValue(baseline) || r.GetValue(handshakes))) r.AddError("--bare cannot be combined with --baseline or --handshakes");
            if (r.GetValue(handshakes) && r.GetValue(baseline)) r.AddError("--baseline applies to round trips, not to --handshakes");
            if (r.GetValue(rounds) > 1 && !r.GetValue(baseline)) r.AddError("--rounds needs --baseline");
            if (r.GetValue(rate) is not null && r.GetValue(handshakes)) r.AddError("--rate applies to round trips, not to --handshakes");
        });
        context.Example(bench,
            "mtactors bench --connections 4 --sessions 4 --depth 8 --duration 10          # pings through the local silo",
            "mtactors bench --mode echo --payload 256 --baseline --json                  # echo RPC, with the bare-echo ratio",
            "mtactors bench --connections 4 --sessions 2 --depth 8 --baseline --rounds 3  # 3 interleaved pairs, median ratio",
            "mtactors bench --connections 4 --sessions 2 --depth 8 --rate 40000           # a paced load: latency at 40,000/s",
            "mtactors bench --key-cache ~/.cache/mtactors-keys.json --connections 16     # keys kept between runs",
            "mtactors bench --handshakes --connections 4 --duration 10                   # auth keys per second",
            "mtactors bench echo-server --port 7000 & mtactors bench --bare --port 7000  # the baseline on its own");
        context.Action(bench, async inv =>
        {
            var p = inv.Parse;
            var transportKind = ParseTransport(p.GetValue(transport)!);
            bool isBare = p.GetValue(bare);
            var keys = isBare ? [] : LoadServerKeys(p.GetValue(rsaKey), inv);
            var settings = new BenchSettings(
                p.GetValue(host)!, p.GetValue(port), keys, p.GetValue(dc), p.GetValue(connections), p.GetValue(sessions),
                p.GetValue(mode) == "echo" ? BenchMode.Echo : BenchMode.Ping, p.GetValue(payload), p.GetValue(depth),
                TimeSpan.FromSeconds(p.GetValue(duration)), p.GetValue(count), TimeSpan.FromSeconds(p.GetValue(warmup)),
                transportKind, p.GetValue(obfuscated), ExpandHome(p.GetValue(keyCache)), p.GetValue(newKeys), inv.Timeout,
                p.GetValue(rate), p.GetValue(rounds));
            try
            {
                return await RunBench(inv, settings, isBare, p.GetValue(baseline), p.GetValue(handshakes), !p.GetValue(context.Options.NoProgress));
            }
            finally
            {
                foreach (var k in keys) k.Dispose();
            }
        });

        var echoServer = new Command("echo-server",
            "A bare TCP echo server speaking the MTProto transport framing (any transport, detected from the first bytes): " +
            "every frame comes straight back, no crypto, no grains. The baseline for `mtactors bench --bare`.");
        var address = new Option<string>("--address") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var echoPort = IntOption("--port", "TCP port (0 picks a free one and prints it)", 0, 0, 65535);
        var runFor = new Option<double>("--duration") { Description = "Seconds to run (default: until interrupted)", HelpName = "seconds" };
        runFor.InRange(0, 86400 * 365);
        echoServer.Options.Add(address);
        echoServer.Options.Add(echoPort);
        echoServer.Options.Add(runFor);
        context.Example(echoServer, "mtactors bench echo-server --port 7000");
        context.Action(echoServer, async inv =>
        {
            if (!IPAddress.TryParse(inv.Parse.GetValue(address), out var ip)) throw new CliException(ExitCodes.Usage, "--address must be an IP address");
            EchoServer server;
            try
            {
                server = new EchoServer(ip, inv.Parse.GetValue(echoPort));
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                throw new CliException(ExitCodes.Failure, $"cannot listen on {ip}:{inv.Parse.GetValue(echoPort)}: {ex.Message}");
            }
            await using (server)
            {
                if (inv.Json) await inv.WriteJsonAsync(new JsonObject { ["address"] = server.EndPoint.Address.ToString(), ["port"] = server.EndPoint.Port });
                else await inv.Out.WriteLineAsync($"echo server listening on {server.EndPoint} (Ctrl-C to stop)");
                await inv.Out.FlushAsync();
                double seconds = inv.Parse.GetValue(runFor);
                try
                {
                    await Task.Delay(seconds > 0 ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan, inv.Cancellation);
                }
                catch (OperationCanceledException) when (inv.Cancellation.IsCancellationRequested)
                {
                }
                await inv.Err.WriteLineAsync($"echo server: {server.Frames:N0} frames echoed");
            }
            return ExitCodes.Ok;
        });
        bench.Subcommands.Add(echoServer);
        root.Subcommands.Add(bench);
    }

    private static async Task<int> RunBench(Invocation inv, BenchSettings s, bool bare, bool baseline, bool handshakes, bool progress)
    {
        var runner = new BenchRunner(s, inv.Err, progress, inv.Cancellation);
        string what = handshakes ? "auth-key creations" : bare ? "bare echo" : s.Mode == BenchMode.Ping ? "ping" : $"echo ({s.Payload} bytes)";
        if (progress)
        {
            string shape = handshakes ? "" : $" x {s.Sessions} session(s), depth {s.Depth}";
            string length = s.Count is long c ? string.Create(CultureInfo.InvariantCulture, $", {c:N0} round trips")
                : string.Create(CultureInfo.InvariantCulture, $", {s.Duration.TotalSeconds:0.#} s");
            await inv.Err.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"mtactors bench: {what} against {s.Server} over {s.TransportName}, {s.Connections} connection(s){shape}{length} (warm-up {s.Warmup.TotalSeconds:0.#} s)"));
        }

        var json = new JsonObject
        {
            ["server"] = s.Server,
            ["transport"] = s.TransportName,
            ["connections"] = s.Connections,
            ["cores"] = Environment.ProcessorCount,
        };
        BenchResult result;
        BenchResult? bareResult = null;
        var rounds = new List<(BenchResult Bare, BenchResult MtProto)>();
        if (handshakes)
        {
            json["mode"] = "handshakes";
            result = await runner.RunHandshakesAsync();
        }
        else
        {
            json["mode"] = bare ? "bare" : s.Mode == BenchMode.Ping ? "ping" : "echo";
            json["sessions_per_connection"] = s.Sessions;
            json["depth"] = s.Depth;
            json["frame_bytes"] = s.FrameBytes;
            if (s.Mode == BenchMode.Echo) json["payload"] = s.Payload;
            if (s.Rate is double target) json["rate_target"] = target;
            if (bare)
            {
                result = await runner.RunBareAsync(s.Host, s.Port);
            }
            else
            {
                int keysCreated = 0, keysReused = 0;
                result = null!;
                for (int round = 1; round <= s.Rounds; round++)
                {
                    // Rounds interleaved (bare echo, MTProto, bare echo, ...): a drifting machine load hits both alike.
                    if (baseline)
                    {
                        await using var echo = new EchoServer(IPAddress.Loopback, 0);
                        bareResult = await runner.RunBareAsync("127.0.0.1", echo.EndPoint.Port);
                        if (progress) await inv.Err.WriteLineAsync("  " + bareResult.Text("round trips"));
                    }
                    var (mt, created, reused) = await runner.RunMtProtoAsync();
                    result = mt;
                    keysCreated += created;
                    keysReused += reused;
                    if (s.Rounds > 1)
                    {
                        rounds.Add((bareResult!, mt));
                        if (progress) await inv.Err.WriteLineAsync($"  round {round}: " + mt.Text("round trips"));
                    }
                }
                json["keys_created"] = keysCreated;
                json["keys_reused"] = keysReused;
                if (rounds.Count > 1)
                {
                    // The reported pair is the round with the median throughput ratio.
                    var median = rounds.OrderBy(r => Ratio(r.MtProto, r.Bare)["throughput"]!.GetValue<double>()).ElementAt(rounds.Count / 2);
                    (bareResult, result) = (median.Bare, median.MtProto);
                }
            }
        }

        string unit = handshakes ? "auth keys" : "round trips";
        if (inv.Json)
        {
            json["result"] = ToJson(result);
            if (bareResult is not null)
            {
                json["baseline"] = ToJson(bareResult);
                json["ratio"] = Ratio(result, bareResult);
            }
            if (rounds.Count > 1)
            {
                json["rounds"] = new JsonArray([.. rounds.Select(r => (JsonNode)new JsonObject
                {
                    ["baseline"] = ToJson(r.Bare),
                    ["result"] = ToJson(r.MtProto),
                    ["ratio"] = Ratio(r.MtProto, r.Bare),
                })]);
            }
            await inv.WriteJsonAsync(json);
        }
        else
        {
            for (int i = 0; i < rounds.Count; i++)
            {
                var r = Ratio(rounds[i].MtProto, rounds[i].Bare);
                await inv.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"round {i + 1}: bare echo {rounds[i].Bare.Rate:N0}/s, mtproto {rounds[i].MtProto.Rate:N0}/s (p50 {rounds[i].MtProto.P50Ms:0.###} ms, p99 {rounds[i].MtProto.P99Ms:0.###} ms), ratio {r["throughput"]!.GetValue<double>():0.###}"));
            }
            if (rounds.Count > 1) await inv.Out.WriteLineAsync("median round:");
            if (bareResult is not null) await inv.Out.WriteLineAsync(bareResult.Text(unit));
            await inv.Out.WriteLineAsync(result.Text(unit));
            if (bareResult is not null)
            {
                var r = Ratio(result, bareResult);
                await inv.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"ratio mtproto / bare echo: throughput {r["throughput"]!.GetValue<double>():0.###}, p50 latency x{r["p50"]!.GetValue<double>():0.##}, p99 latency x{r["p99"]!.GetValue<double>():0.##}"));
            }
        }

        if (result.Operations == 0)
        {
            throw new CliException(ExitCodes.Failure, $"no {unit} completed" + (result.FirstError is null ? "" : $": {result.FirstError}"));
        }

        var all = rounds.Count > 1 ? rounds.SelectMany(r => new[] { r.MtProto, r.Bare }).ToList() : [result, .. bareResult is null ? [] : new[] { bareResult }];
        long errors = all.Sum(r => r.Errors);
        if (errors > 0)
        {
            await inv.Err.WriteLineAsync($"error: {errors} call(s) failed (first: {all.Select(r => r.FirstError).FirstOrDefault(e => e is not null)})");
            return ExitCodes.Failure;
        }

        return ExitCodes.Ok;
    }

    private static JsonObject ToJson(BenchResult r) => new()
    {
        ["kind"] = r.Kind,
        ["operations"] = r.Operations,
        ["seconds"] = Math.Round(r.Seconds, 3),
        ["rate"] = Math.Round(r.Rate, 1),
        ["p50_ms"] = Math.Round(r.P50Ms, 4),
        ["p99_ms"] = Math.Round(r.P99Ms, 4),
        ["max_ms"] = Math.Round(r.MaxMs, 4),
        ["mean_ms"] = Math.Round(r.MeanMs, 4),
        ["in_flight"] = r.Workers,
        ["process_cpu_seconds"] = Math.Round(r.ProcessCpuSeconds, 3),
        ["process_cpu_us_per_op"] = Math.Round(r.ProcessCpuMicrosPerOp, 2),
        ["errors"] = r.Errors,
        ["first_error"] = r.FirstError,
    };

    private static JsonObject Ratio(BenchResult mt, BenchResult bare) => new()
    {
        ["throughput"] = Math.Round(bare.Rate > 0 ? mt.Rate / bare.Rate : 0, 4),
        ["p50"] = Math.Round(bare.P50Ms > 0 ? mt.P50Ms / bare.P50Ms : 0, 3),
        ["p99"] = Math.Round(bare.P99Ms > 0 ? mt.P99Ms / bare.P99Ms : 0, 3),
    };

    private static TransportKind ParseTransport(string name) => name switch
    {
        "abridged" => TransportKind.Abridged,
        "padded" => TransportKind.PaddedIntermediate,
        "full" => TransportKind.Full,
        _ => TransportKind.Intermediate,
    };

    private static List<RsaPublicKey> LoadServerKeys(string? path, Invocation inv)
    {
        bool explicitPath = path is not null;
        path = ExpandHome(path) ?? Path.Combine(inv.DataDirectory, SiloPublicKeyFile);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, explicitPath
                ? $"cannot read --rsa-key {path}: {ex.Message}"
                : $"no --rsa-key given and the local silo's public key {path} cannot be read ({ex.Message}); " +
                  "start the silo once or pass the server's public key with --rsa-key");
        }
        var keys = new List<RsaPublicKey>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var pem = rest[fields.Location].ToString();
            rest = rest[fields.Location.End..];
            try
            {
                keys.Add(RsaPublicKey.FromPem(pem));
            }
            catch (ArgumentException ex)
            {
                foreach (var k in keys) k.Dispose();
                throw new CliException(ExitCodes.Usage, $"{path}: {ex.Message}");
            }
        }
        if (keys.Count == 0) throw new CliException(ExitCodes.Usage, $"{path} holds no PEM RSA key");
        return keys;
    }

    private static string? ExpandHome(string? path) =>
        path is not null && path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..])
            : path;

    private static Option<int> IntOption(string name, string description, int defaultValue, int min, int max) =>
        new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = "n" }.InRange(min, max);
}
