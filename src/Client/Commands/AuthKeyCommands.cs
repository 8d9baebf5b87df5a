using System.CommandLine;
using System.Diagnostics;
using MtActors.Admin;
using MtActors.Grains;

namespace MtActors.Client.Commands;

/// <summary><c>authkey show | sessions | destroy</c>.</summary>
internal static class AuthKeyCommands
{
    /// <summary>How often <c>authkey destroy</c> looks at how many of the key's sessions are left.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Longest a single destroy_auth_key call may run while it keeps making progress (sessions being deleted); without
    /// progress for --timeout seconds the CLI gives up earlier.
    /// </summary>
    private static readonly TimeSpan DestroyCallBound = TimeSpan.FromHours(1);

    public static void Add(Command root, CommandContext context)
    {
        context.Group(root, "authkey", ["authkeys", "auth-key"], "MTProto auth keys: show one, list its sessions, destroy it",
            [Show(context), Sessions(context), Destroy(context)],
            "mtactors authkey show 0x1122334455667788",
            "mtactors authkey sessions 0x1122334455667788",
            "mtactors authkey destroy 0x1122334455667788");
    }

    private static Command Show(CommandContext context)
    {
        var key = Arguments.Id("auth-key-id", "The auth key id");
        var show = context.Command("show",
            "Show an auth key: kind (permanent or temporary), creation time, expiry, number of live sessions. Never " +
            "prints key material. Exit code 4 when the key does not exist (never created, destroyed or expired).",
            [key],
            "mtactors authkey show 0x1122334455667788",
            "mtactors authkey show 1234567890 --json");
        context.Action(show, async inv =>
        {
            var id = inv.Parse.GetValue(key);
            var grain = (await inv.ClientAsync()).GetAuthKeyGrain(id);
            var info = await grain.Get() ?? throw NotFound(id);
            var sessions = await grain.GetSessionIds();
            if (inv.Json)
            {
                await inv.WriteJsonAsync(AuthKeyResponse.From(info, sessions.Length), AdminJsonContext.Default.AuthKeyResponse);
            }
            else
            {
                await inv.Out.WriteLineAsync($"{"auth_key_id",-14} {JsonText.Id(info.AuthKeyId)}");
                await inv.Out.WriteLineAsync($"{"kind",-14} {AuthKeyResponse.KindName(info.Kind)}");
                await inv.Out.WriteLineAsync($"{"created_at",-14} {JsonText.Time(info.CreatedAt)}");
                await inv.Out.WriteLineAsync($"{"expires_at",-14} {(info.ExpiresAt is { } e ? JsonText.Time(e) : "never")}");
                await inv.Out.WriteLineAsync($"{"sessions",-14} {sessions.Length}");
            }

            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command Sessions(CommandContext context)
    {
        var key = Arguments.Id("auth-key-id", "The auth key id");
        var sessions = context.Command("sessions",
            "List the ids of the auth key's live sessions (its stored session rows). Exit code 4 when the key does not " +
            "exist. For paging and row times use `mtactors sessions list --auth-key <id>`.",
            [key],
            "mtactors authkey sessions 0x1122334455667788");
        context.Action(sessions, async inv =>
        {
            var id = inv.Parse.GetValue(key);
            var grain = (await inv.ClientAsync()).GetAuthKeyGrain(id);
            var ids = await grain.GetSessionIds();
            if (ids.IsEmpty && await grain.Get() is null)
            {
                throw NotFound(id);
            }

            if (inv.Json)
            {
                await inv.WriteJsonAsync(AuthKeySessionsResponse.From(id, ids), AdminJsonContext.Default.AuthKeySessionsResponse);
            }
            else
            {
                foreach (var s in ids)
                {
                    await inv.Out.WriteLineAsync(JsonText.Id(s));
                }
            }

            return ExitCodes.Ok;
        });
        return sessions;
    }

    private static Command Destroy(CommandContext context)
    {
        var key = Arguments.Id("auth-key-id", "The auth key id");
        var destroy = context.Command("destroy",
            "destroy_auth_key: destroy every session of the key, then erase the key; clients using it get transport " +
            "error -404 and must create a new key. Prints destroy_auth_key_ok (exit 0), destroy_auth_key_none when no " +
            "such key exists (exit 0: it is gone either way) or destroy_auth_key_fail (exit 1: a storage error; " +
            "nothing that matters was lost, run it again). A key with many sessions takes a while: progress on stderr; " +
            "it gives up (exit 5) only when no session was destroyed for --timeout seconds.",
            [key],
            "mtactors authkey destroy 0x1122334455667788     # destroy_auth_key_ok auth_key_id:... sessions:3",
            "mtactors authkey destroy 0x1122334455667788 --json");
        context.Action(destroy, async inv =>
        {
            var id = inv.Parse.GetValue(key);
            var grain = (await inv.ClientAsync(DestroyCallBound)).GetAuthKeyGrain(id);
            var before = (await grain.GetSessionIds().WaitAsync(inv.Timeout, inv.Cancellation)).Length;
            var call = grain.DestroyAuthKey();
            var lastLeft = long.MaxValue;
            var sinceProgress = Stopwatch.StartNew();
            while (!call.IsCompleted)
            {
                await Task.WhenAny(call, Task.Delay(PollInterval, inv.Cancellation));
                inv.Cancellation.ThrowIfCancellationRequested();
                if (call.IsCompleted)
                {
                    break;
                }

                // The grain deletes the sessions' rows one by one: count what is left (an indexed count).
                var left = await inv.Database.CountSessionsAsync(id, inv.Cancellation);
                if (left < lastLeft)
                {
                    lastLeft = left;
                    sinceProgress.Restart();
                }

                inv.Progress.Report("destroying sessions", Math.Max(0, before - left), before);
                if (sinceProgress.Elapsed > inv.Timeout)
                {
                    throw new CliException(ExitCodes.Timeout,
                        $"destroy_auth_key of {JsonText.Id(id)} made no progress for {inv.Timeout.TotalSeconds:0.#} s " +
                        $"({left} sessions left); it may still finish: check with `mtactors authkey show {Ids.Hex(id)}`");
                }
            }

            var outcome = await call;
            inv.Progress.Clear();
            var answer = DestroyAuthKeyResponse.From(id, outcome, before);
            if (inv.Json)
            {
                await inv.WriteJsonAsync(answer, AdminJsonContext.Default.DestroyAuthKeyResponse);
            }
            else
            {
                await inv.Out.WriteLineAsync(answer.SessionsDestroyed is { } destroyed
                    ? $"{answer.Result} auth_key_id:{id} sessions:{destroyed}"
                    : $"{answer.Result} auth_key_id:{id}");
            }

            if (outcome == DestroyAuthKeyResult.Fail)
            {
                await inv.Err.WriteLineAsync(
                    "error: destroy_auth_key_fail: the key could not be destroyed now (storage error); run it again");
                return ExitCodes.Failure;
            }

            return ExitCodes.Ok;
        });
        return destroy;
    }

    private static CliException NotFound(long id) => new(ExitCodes.NotFound,
        $"auth key {JsonText.Id(id)} does not exist (never registered, destroyed, or expired)");
}
