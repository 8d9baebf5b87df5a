using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MtActors.Grains;
using Orleans.Runtime;

namespace MtActors.Client;

/// <summary>The mtactors command line: builds the commands and runs them with one-line errors and exit codes.</summary>
public static class Cli
{
    private sealed record Globals(
        Option<string?> Connection, Option<string?> ClusterId, Option<string?> ServiceId, Option<string?> DataDir,
        Option<bool> Json, Option<double> Timeout, Option<bool> Verbose);

    /// <summary>Runs the CLI with <paramref name="args"/>; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, Func<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var root = Build(output, error, environment);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                await error.WriteLineAsync($"error: {e.Message}");
            }

            await error.WriteLineAsync("Run `mtactors --help` for usage.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(
            new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false },
            cancellationToken);
    }

    /// <summary>The command tree (for help and tests).</summary>
    public static RootCommand Build(TextWriter output, TextWriter error, Func<string, string?> environment)
    {
        var g = new Globals(
            new Option<string?>("--connection", "-c")
            {
                Description = $"Npgsql connection string of the cluster's database (default: ${ClusterConnection.ConnectionVariable}, " +
                              "then the local silo's cluster.json)",
                Recursive = true,
            },
            new Option<string?>("--cluster-id")
            {
                Description = "Orleans cluster id (default: from cluster.json, else 'mtactors')", Recursive = true,
            },
            new Option<string?>("--service-id")
            {
                Description = "Orleans service id (default: from cluster.json, else 'mtactors')", Recursive = true,
            },
            new Option<string?>("--data-dir")
            {
                Description = "The local silo's data directory, where cluster.json is (default: as the silo's)",
                Recursive = true,
            },
            new Option<bool>("--json") { Description = "Print JSON instead of text", Recursive = true },
            new Option<double>("--timeout")
            {
                Description = "Seconds to wait for the cluster (connect and each call)",
                DefaultValueFactory = _ => 10,
                Recursive = true,
            },
            new Option<bool>("--verbose", "-v") { Description = "Log the cluster client's progress to stderr", Recursive = true });
        g.Timeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is <= 0 or > 3600)
            {
                r.AddError("--timeout must be more than 0 and at most 3600 seconds");
            }
        });

        var root = new RootCommand(
            "mtactors: inspect and manage the sessions and auth keys of an MtActors cluster.\n" +
            "Ids are decimal or 0x-hex 64-bit numbers. With no --connection it talks to the local silo.\n" +
            "Exit codes: 0 done, 1 failure, 2 bad usage, 3 cluster unreachable, 4 not found, 5 timeout.");
        foreach (var o in new Option[] { g.Connection, g.ClusterId, g.ServiceId, g.DataDir, g.Json, g.Timeout, g.Verbose })
        {
            root.Options.Add(o);
        }

        var session = new Command("session", "One MTProto session (auth key id + session id)");
        var show = new Command("show", "Show a session's state (salt, msg_id counters, times)");
        var destroy = new Command("destroy",
            "destroy_session: delete the session's state and deactivate it; prints destroy_session_ok or destroy_session_none");
        foreach (var c in new[] { show, destroy })
        {
            var authKey = IdArgument("auth-key-id", "The auth key id");
            var sessionId = IdArgument("session-id", "The session id");
            c.Arguments.Add(authKey);
            c.Arguments.Add(sessionId);
            var isShow = c == show;
            c.SetAction((parse, ct) => Execute(parse, g, output, error, environment, ct, async (client, json) =>
            {
                var a = parse.GetRequiredValue(authKey);
                var s = parse.GetRequiredValue(sessionId);
                return isShow
                    ? await ShowSession(client, a, s, json, output, error)
                    : await DestroySession(client, a, s, json, output);
            }));
            session.Subcommands.Add(c);
        }

        var authkey = new Command("authkey", "One auth key");
        var sessions = new Command("sessions", "List the ids of the auth key's live sessions");
        var keyArg = IdArgument("auth-key-id", "The auth key id");
        sessions.Arguments.Add(keyArg);
        sessions.SetAction((parse, ct) => Execute(parse, g, output, error, environment, ct, async (client, json) =>
            await AuthKeySessions(client, parse.GetRequiredValue(keyArg), json, output)));
        authkey.Subcommands.Add(sessions);

        root.Subcommands.Add(session);
        root.Subcommands.Add(authkey);
        root.Subcommands.Add(RsaKeyCommand.Create(g.DataDir, g.Json, output, error));
        return root;
    }

    private static Argument<long> IdArgument(string name, string description) => new(name)
    {
        Description = description + " (decimal or 0x-hex)",
        CustomParser = r =>
        {
            var token = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Ids.TryParse(token, out var value, out var why))
            {
                return value;
            }

            r.AddError($"<{name}>: {why}");
            return 0;
        },
    };

    private static async Task<int> Execute(
        ParseResult parse, Globals g, TextWriter output, TextWriter error, Func<string, string?> environment,
        CancellationToken ct, Func<IClusterClient, bool, Task<int>> body)
    {
        var verbose = parse.GetValue(g.Verbose);
        var timeout = TimeSpan.FromSeconds(parse.GetValue(g.Timeout));
        try
        {
            var connection = ClusterConnection.Resolve(parse.GetValue(g.Connection), parse.GetValue(g.ClusterId),
                parse.GetValue(g.ServiceId), parse.GetValue(g.DataDir), environment);
            await using var connected = await ClusterClientFactory.ConnectAsync(connection, timeout, verbose, error, ct);
            try
            {
                return await body(connected.Client, parse.GetValue(g.Json));
            }
            catch (TimeoutException)
            {
                throw new CliException(ExitCodes.Timeout,
                    $"the cluster did not answer within {timeout.TotalSeconds:0.#} s");
            }
            catch (SiloUnavailableException ex)
            {
                throw new CliException(ExitCodes.NoCluster, $"the silo became unavailable: {ex.Message}");
            }
        }
        catch (CliException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            if (verbose && ex.InnerException is { } inner)
            {
                await error.WriteLineAsync(inner.ToString());
            }

            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await error.WriteLineAsync("error: cancelled");
            return 130;
        }
        catch (Exception ex)
        {
            await error.WriteLineAsync($"error: {OneLine(ex)}");
            if (verbose)
            {
                await error.WriteLineAsync(ex.ToString());
            }

            return ExitCodes.Failure;
        }
    }

    private static async Task<int> ShowSession(
        IClusterClient client, long authKeyId, long sessionId, bool json, TextWriter output, TextWriter error)
    {
        var info = await client.GetSessionGrain(authKeyId, sessionId).GetInfo();
        if (info is null)
        {
            await error.WriteLineAsync(
                $"error: session {sessionId} ({Ids.Hex(sessionId)}) of auth key {authKeyId} ({Ids.Hex(authKeyId)}) does not exist");
            return ExitCodes.NotFound;
        }

        var fields = new (string Name, object Value)[]
        {
            ("auth_key_id", info.AuthKeyId),
            ("session_id", info.SessionId),
            ("unique_id", info.UniqueId),
            ("created_at", info.CreatedAt),
            ("last_activity_at", info.LastActivityAt),
            ("first_msg_id", info.FirstMsgId),
            ("last_client_msg_id", info.LastClientMsgId),
            ("last_server_msg_id", info.LastServerMsgId),
            ("content_messages_sent", info.ContentMessagesSent),
            ("current_salt", info.CurrentSalt),
        };
        if (json)
        {
            var obj = new JsonObject { ["_"] = "session" };
            foreach (var (name, value) in fields)
            {
                obj[name] = value switch
                {
                    DateTimeOffset t => JsonValue.Create(t.ToString("O", CultureInfo.InvariantCulture)),
                    long l => JsonValue.Create(l),
                    int i => JsonValue.Create(i),
                    _ => JsonValue.Create(value.ToString()),
                };
            }

            await output.WriteLineAsync(obj.ToJsonString(JsonOptions));
        }
        else
        {
            foreach (var (name, value) in fields)
            {
                var text = value switch
                {
                    DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
                    long l when name.EndsWith("_id", StringComparison.Ordinal) || name == "current_salt" =>
                        $"{l} ({Ids.Hex(l)})",
                    _ => Convert.ToString(value, CultureInfo.InvariantCulture),
                };
                await output.WriteLineAsync($"{name,-22} {text}");
            }
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> DestroySession(
        IClusterClient client, long authKeyId, long sessionId, bool json, TextWriter output)
    {
        var existed = await client.GetSessionGrain(authKeyId, sessionId).Destroy();
        var answer = existed ? "destroy_session_ok" : "destroy_session_none";
        await output.WriteLineAsync(json
            ? new JsonObject { ["_"] = answer, ["session_id"] = sessionId }.ToJsonString(JsonOptions)
            : $"{answer} session_id:{sessionId}");
        return ExitCodes.Ok;
    }

    private static async Task<int> AuthKeySessions(IClusterClient client, long authKeyId, bool json, TextWriter output)
    {
        var ids = await client.GetAuthKeyGrain(authKeyId).GetSessionIds();
        if (json)
        {
            var array = new JsonArray();
            foreach (var id in ids)
            {
                array.Add(id);
            }

            await output.WriteLineAsync(new JsonObject
            {
                ["auth_key_id"] = authKeyId,
                ["session_ids"] = array,
            }.ToJsonString(JsonOptions));
        }
        else
        {
            foreach (var id in ids)
            {
                await output.WriteLineAsync($"{id} ({Ids.Hex(id)})");
            }
        }

        return ExitCodes.Ok;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    private static string OneLine(Exception ex) => ex.Message.ReplaceLineEndings(" ").Trim();
}
