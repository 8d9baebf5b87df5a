using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using MtActors.Client.Storage;
using MtActors.Grains;

namespace MtActors.Client.Commands;

/// <summary><c>session list | show | destroy</c> (also spelled <c>sessions</c>).</summary>
internal static class SessionCommands
{
    /// <summary>Default page size of <c>session list</c>.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>Rows per query when <c>session list --all</c> walks the whole table.</summary>
    public const int AllBatchSize = 1000;

    /// <summary>Largest page.</summary>
    public const int MaxPageSize = 10_000;

    public static void Add(Command root, CommandContext context)
    {
        var session = new Command("session", "MTProto sessions: list the stored ones, show or destroy one");
        session.Aliases.Add("sessions");
        session.Subcommands.Add(List(context));
        session.Subcommands.Add(Show(context));
        session.Subcommands.Add(Destroy(context));
        context.Example(session,
            "mtactors sessions list",
            "mtactors session show 0x1122334455667788 42",
            "mtactors session destroy 0x1122334455667788 42");
        root.Subcommands.Add(session);
    }

    private static Command List(CommandContext context)
    {
        var authKey = Arguments.IdOption("--auth-key", "Only the sessions of this auth key", "-k");
        var pageSize = new Option<int>("--page-size", "-n")
        {
            Description = $"Sessions per page (1..{MaxPageSize}; default {DefaultPageSize}, with --all {AllBatchSize} per query)",
            HelpName = "count",
        }.InRange(1, MaxPageSize);
        var page = new Option<int>("--page", "-p")
        {
            Description = "Page number, from 1 (default 1). For deep pages prefer --after: it costs the same at any depth",
            HelpName = "number",
        }.InRange(1, int.MaxValue);
        var after = new Option<string?>("--after")
        {
            Description = "Continue after this cursor (the next_cursor a previous page printed)",
            HelpName = "cursor",
        };
        after.Validators.Add(r =>
        {
            if (!SessionCursor.TryParse(r.GetValueOrDefault<string?>(), out _))
            {
                r.AddError("--after: not a cursor (32 hex digits, as a previous page printed)");
            }
        });
        var all = new Option<bool>("--all", "-a") { Description = "Every session (all pages), streamed; progress on stderr" };

        var list = new Command("list",
            "List the stored sessions in a stable order (auth key id, then session id), a page at a time. Reads the " +
            "grain storage table directly: works without a running silo.\n" +
            "Columns: auth key id, session id, when the session's row was last written.");
        list.Aliases.Add("ls");
        foreach (var o in new Option[] { authKey, pageSize, page, after, all })
        {
            list.Options.Add(o);
        }

        list.Validators.Add(r =>
        {
            if (r.GetResult(page) is not null && r.GetResult(after) is not null)
            {
                r.AddError("--page and --after cannot be combined: --after already says where the page starts");
            }

            if (r.GetResult(page) is not null && r.GetResult(all) is not null)
            {
                r.AddError("--page and --all cannot be combined");
            }
        });
        context.Example(list,
            "mtactors sessions list                                   # first 50 sessions",
            "mtactors sessions list --page 2 --page-size 100",
            "mtactors sessions list --after 112233445566778800000000000000aa   # the page after a cursor",
            "mtactors sessions list --auth-key 0x1122334455667788     # one key's sessions",
            "mtactors sessions list --all --json > sessions.json      # everything, with progress on a terminal");
        context.Action(list, async inv =>
        {
            var key = inv.Parse.GetValue(authKey);
            SessionCursor? cursor = SessionCursor.TryParse(inv.Parse.GetValue(after), out var c) ? c : null;
            var explicitSize = inv.Parse.GetResult(pageSize) is not null;
            return inv.Parse.GetValue(all)
                ? await ListAll(inv, key, cursor, explicitSize ? inv.Parse.GetValue(pageSize) : AllBatchSize)
                : await ListPage(inv, key, cursor, inv.Parse.GetResult(page) is null ? 1 : inv.Parse.GetValue(page),
                    explicitSize ? inv.Parse.GetValue(pageSize) : DefaultPageSize);
        });
        return list;
    }

    private static async Task<int> ListPage(Invocation inv, long? authKey, SessionCursor? after, int page, int size)
    {
        var db = inv.Database;
        var total = await db.CountSessionsAsync(authKey, inv.Cancellation);
        var offset = after is null ? (long)(page - 1) * size : 0;
        var rows = await db.ReadSessionsAsync(authKey, after, offset, size + 1, inv.Cancellation);
        var more = rows.Count > size;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        string? next = more ? new SessionCursor(rows[^1].AuthKeyId, rows[^1].SessionId).ToString() : null;
        if (inv.Json)
        {
            var obj = new JsonObject
            {
                ["_"] = "sessions",
                ["auth_key_id"] = authKey,
                ["total"] = total,
                ["page"] = after is null ? page : null,
                ["page_size"] = size,
                ["after"] = after?.ToString(),
                ["count"] = rows.Count,
                ["sessions"] = new JsonArray([.. rows.Select(Json)]),
                ["next_cursor"] = next,
            };
            await inv.WriteJsonAsync(obj);
            return ExitCodes.Ok;
        }

        if (rows.Count > 0)
        {
            await inv.Out.WriteLineAsync(Header);
            foreach (var row in rows)
            {
                await inv.Out.WriteLineAsync(Text(row));
            }
        }

        // Where this page is and how to get the next one: on stderr, so stdout stays rows only.
        var scope = authKey is { } k ? $" of auth key {Ids.Hex(k)}" : "";
        if (rows.Count == 0)
        {
            await inv.Err.WriteLineAsync(total == 0
                ? $"no sessions{scope}"
                : $"no sessions on this page{scope} ({total} in all)");
        }
        else
        {
            var position = after is null
                ? string.Create(CultureInfo.InvariantCulture,
                    $"sessions {offset + 1}-{offset + rows.Count} of {total}{scope} (page {page} of {Math.Max(1, (total + size - 1) / size)})")
                : string.Create(CultureInfo.InvariantCulture, $"{rows.Count} sessions after {after}{scope}, {total} in all");
            await inv.Err.WriteLineAsync(next is null ? position : $"{position}; next page: --after {next}");
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> ListAll(Invocation inv, long? authKey, SessionCursor? after, int batch)
    {
        var db = inv.Database;
        var total = await db.CountSessionsAsync(authKey, inv.Cancellation);
        var count = 0L;
        if (inv.Json)
        {
            var head = new JsonObject
            {
                ["_"] = "sessions",
                ["auth_key_id"] = authKey,
                ["total"] = total,
                ["after"] = after?.ToString(),
            }.ToJsonString(JsonText.Options);
            await inv.Out.WriteAsync(head[..^1] + ",\"sessions\":[");
        }
        else
        {
            await inv.Out.WriteLineAsync(Header);
        }

        var cursor = after;
        while (true)
        {
            inv.Progress.Report("listing sessions", count, total);
            var rows = await db.ReadSessionsAsync(authKey, cursor, 0, batch, inv.Cancellation);
            foreach (var row in rows)
            {
                if (inv.Json)
                {
                    await inv.Out.WriteAsync((count > 0 ? "," : "") + JsonLine(row));
                }
                else
                {
                    await inv.Out.WriteLineAsync(Text(row));
                }

                count++;
            }

            if (rows.Count < batch)
            {
                break;
            }

            cursor = new SessionCursor(rows[^1].AuthKeyId, rows[^1].SessionId);
        }

        inv.Progress.Clear();
        if (inv.Json)
        {
            await inv.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"],\"count\":{count},\"next_cursor\":null}}"));
        }
        else
        {
            var scope = authKey is { } k ? $" of auth key {Ids.Hex(k)}" : "";
            await inv.Err.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{count} sessions{scope}"));
        }

        return ExitCodes.Ok;
    }

    private const string Header = "AUTH_KEY_ID         SESSION_ID          LAST_WRITE_AT";

    private static string Text(SessionRow row) =>
        $"{Ids.Hex(row.AuthKeyId)}  {Ids.Hex(row.SessionId)}  {JsonText.Time(row.LastWriteAt.ToUniversalTime())}";

    /// <summary>The same object as <see cref="Json"/>, written directly (the --all path writes millions).</summary>
    private static string JsonLine(SessionRow row) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"auth_key_id\":{row.AuthKeyId},\"session_id\":{row.SessionId},\"last_write_at\":\"{JsonText.Time(row.LastWriteAt.ToUniversalTime())}\"}}");

    private static JsonObject Json(SessionRow row) => new()
    {
        ["auth_key_id"] = row.AuthKeyId,
        ["session_id"] = row.SessionId,
        ["last_write_at"] = JsonText.Time(row.LastWriteAt.ToUniversalTime()),
    };

    private static Command Show(CommandContext context)
    {
        var authKey = Arguments.Id("auth-key-id", "The auth key id");
        var sessionId = Arguments.Id("session-id", "The session id");
        var show = new Command("show",
            "Show a session's state: unique_id, times, msg_id counters, current server salt (never key material). " +
            "Exit code 4 when it does not exist.");
        show.Arguments.Add(authKey);
        show.Arguments.Add(sessionId);
        context.Example(show,
            "mtactors session show 0x1122334455667788 42",
            "mtactors session show -1234567890123456789 0x2a --json");
        context.Action(show, async inv =>
        {
            var a = inv.Parse.GetValue(authKey);
            var s = inv.Parse.GetValue(sessionId);
            var client = await inv.ClientAsync();
            var info = await client.GetSessionGrain(a, s).GetInfo();
            if (info is null)
            {
                throw new CliException(ExitCodes.NotFound,
                    $"session {JsonText.Id(s)} of auth key {JsonText.Id(a)} does not exist");
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
            if (inv.Json)
            {
                var obj = new JsonObject { ["_"] = "session" };
                foreach (var (name, value) in fields)
                {
                    obj[name] = value switch
                    {
                        DateTimeOffset t => JsonValue.Create(JsonText.Time(t)),
                        long l => JsonValue.Create(l),
                        int i => JsonValue.Create(i),
                        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
                    };
                }

                await inv.WriteJsonAsync(obj);
            }
            else
            {
                foreach (var (name, value) in fields)
                {
                    var text = value switch
                    {
                        DateTimeOffset t => JsonText.Time(t),
                        long l when name.EndsWith("_id", StringComparison.Ordinal) || name == "current_salt" => JsonText.Id(l),
                        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
                    };
                    await inv.Out.WriteLineAsync($"{name,-22} {text}");
                }
            }

            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command Destroy(CommandContext context)
    {
        var authKey = Arguments.Id("auth-key-id", "The auth key id");
        var sessionId = Arguments.Id("session-id", "The session id");
        var destroy = new Command("destroy",
            "destroy_session: delete the session's stored state and deactivate its grain. Prints destroy_session_ok " +
            "when it existed, destroy_session_none when it did not (both exit 0: the session is gone either way). " +
            "A client still using it gets a new session on its next message.");
        destroy.Arguments.Add(authKey);
        destroy.Arguments.Add(sessionId);
        context.Example(destroy,
            "mtactors session destroy 0x1122334455667788 42      # destroy_session_ok session_id:42",
            "mtactors session destroy 0x1122334455667788 42 --json");
        context.Action(destroy, async inv =>
        {
            var a = inv.Parse.GetValue(authKey);
            var s = inv.Parse.GetValue(sessionId);
            var client = await inv.ClientAsync();
            var existed = await client.GetSessionGrain(a, s).Destroy();
            var answer = existed ? "destroy_session_ok" : "destroy_session_none";
            await (inv.Json
                ? inv.WriteJsonAsync(new JsonObject { ["_"] = answer, ["auth_key_id"] = a, ["session_id"] = s })
                : inv.Out.WriteLineAsync($"{answer} session_id:{s}"));
            return ExitCodes.Ok;
        });
        return destroy;
    }
}
