using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MtActors.Admin;
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
        context.Group(root, "session", ["sessions"], "MTProto sessions: list the stored ones, show or destroy one",
            [List(context), Show(context), Destroy(context)],
            "mtactors sessions list",
            "mtactors session show 0x1122334455667788 42",
            "mtactors session destroy 0x1122334455667788 42");
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

        var list = context.Command("list",
            "List the stored sessions in a stable order (auth key id, then session id), a page at a time. Reads the " +
            "grain storage table directly: works without a running silo.\n" +
            "Columns: auth key id, session id, when the session's row was last written.",
            [authKey, pageSize, page, after, all],
            "mtactors sessions list                                   # first 50 sessions",
            "mtactors sessions list --page 2 --page-size 100",
            "mtactors sessions list --after 112233445566778800000000000000aa   # the page after a cursor",
            "mtactors sessions list --auth-key 0x1122334455667788     # one key's sessions",
            "mtactors sessions list --all --json > sessions.json      # everything, with progress on a terminal");
        list.Aliases.Add("ls");
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
            await inv.WriteJsonAsync(
                new StoredSessionPageResponse(
                    authKey is { } id ? Ids.Format(id) : null, total, after is null ? page : null, size, after?.ToString(),
                    [.. rows.Select(Json)], rows.Count, next),
                AdminJsonContext.Default.StoredSessionPageResponse);
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
        // --json: a StoredSessionPageResponse written as it goes (the table may hold millions of rows), its fields in
        // the same order as a single page's.
        var buffer = new ArrayBufferWriter<byte>();
        await using var json = new Utf8JsonWriter(buffer);
        if (inv.Json)
        {
            json.WriteStartObject();
            WriteOptional(json, "auth_key_id", authKey is { } id ? Ids.Format(id) : null);
            json.WriteNumber("total", total);
            json.WriteNull("page");
            json.WriteNull("page_size");
            WriteOptional(json, "after", after?.ToString());
            json.WriteStartArray("sessions");
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
                    JsonSerializer.Serialize(json, Json(row), AdminJsonContext.Default.StoredSessionResponse);
                }
                else
                {
                    await inv.Out.WriteLineAsync(Text(row));
                }

                count++;
            }

            await Flush(inv, json, buffer);
            if (rows.Count < batch)
            {
                break;
            }

            cursor = new SessionCursor(rows[^1].AuthKeyId, rows[^1].SessionId);
        }

        inv.Progress.Clear();
        if (inv.Json)
        {
            json.WriteEndArray();
            json.WriteNumber("count", count);
            json.WriteNull("next_cursor");
            json.WriteEndObject();
            await Flush(inv, json, buffer);
            await inv.Out.WriteLineAsync();
        }
        else
        {
            var scope = authKey is { } k ? $" of auth key {Ids.Hex(k)}" : "";
            await inv.Err.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{count} sessions{scope}"));
        }

        return ExitCodes.Ok;
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>Moves what <paramref name="json"/> wrote so far to stdout.</summary>
    private static async Task Flush(Invocation inv, Utf8JsonWriter json, ArrayBufferWriter<byte> buffer)
    {
        json.Flush();
        if (buffer.WrittenCount > 0)
        {
            await inv.Out.WriteAsync(Encoding.UTF8.GetString(buffer.WrittenSpan));
            buffer.ResetWrittenCount();
        }
    }

    private const string Header = "AUTH_KEY_ID         SESSION_ID          LAST_WRITE_AT";

    private static string Text(SessionRow row) =>
        $"{Ids.Hex(row.AuthKeyId)}  {Ids.Hex(row.SessionId)}  {JsonText.Time(row.LastWriteAt.ToUniversalTime())}";

    private static StoredSessionResponse Json(SessionRow row) =>
        StoredSessionResponse.From(row.AuthKeyId, row.SessionId, row.LastWriteAt);

    private static Command Show(CommandContext context)
    {
        var authKey = Arguments.Id("auth-key-id", "The auth key id");
        var sessionId = Arguments.Id("session-id", "The session id");
        var show = context.Command("show",
            "Show a session's state: unique_id, times, msg_id counters, current server salt (never key material). " +
            "Exit code 4 when it does not exist.",
            [authKey, sessionId],
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

            if (inv.Json)
            {
                await inv.WriteJsonAsync(SessionResponse.From(info), AdminJsonContext.Default.SessionResponse);
            }
            else
            {
                (string Name, string Value)[] fields =
                [
                    ("auth_key_id", JsonText.Id(info.AuthKeyId)),
                    ("session_id", JsonText.Id(info.SessionId)),
                    ("unique_id", JsonText.Id(info.UniqueId)),
                    ("created_at", JsonText.Time(info.CreatedAt)),
                    ("last_activity_at", JsonText.Time(info.LastActivityAt)),
                    ("first_msg_id", JsonText.Id(info.FirstMsgId)),
                    ("last_client_msg_id", JsonText.Id(info.LastClientMsgId)),
                    ("last_server_msg_id", JsonText.Id(info.LastServerMsgId)),
                    ("content_messages_sent", info.ContentMessagesSent.ToString(CultureInfo.InvariantCulture)),
                    ("current_salt", JsonText.Id(info.CurrentSalt)),
                ];
                foreach (var (name, value) in fields)
                {
                    await inv.Out.WriteLineAsync($"{name,-22} {value}");
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
        var destroy = context.Command("destroy",
            "destroy_session: delete the session's stored state and deactivate its grain. Prints destroy_session_ok " +
            "when it existed, destroy_session_none when it did not (both exit 0: the session is gone either way). " +
            "A client still using it gets a new session on its next message.",
            [authKey, sessionId],
            "mtactors session destroy 0x1122334455667788 42      # destroy_session_ok session_id:42",
            "mtactors session destroy 0x1122334455667788 42 --json");
        context.Action(destroy, async inv =>
        {
            var a = inv.Parse.GetValue(authKey);
            var s = inv.Parse.GetValue(sessionId);
            var client = await inv.ClientAsync();
            var existed = await client.GetSessionGrain(a, s).Destroy();
            var answer = DestroySessionResponse.From(a, s, existed);
            await (inv.Json
                ? inv.WriteJsonAsync(answer, AdminJsonContext.Default.DestroySessionResponse)
                : inv.Out.WriteLineAsync($"{answer.Result} session_id:{s}"));
            return ExitCodes.Ok;
        });
        return destroy;
    }
}
