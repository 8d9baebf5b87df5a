namespace MtActors.Interop.Tests.Clients;

/// <summary>
/// Test policy for the auth-key length bug of real clients (real-clients.md §5.1): they keep g^ab as minimal
/// big-endian bytes, so about 1 handshake in 200 gives them a 255-byte key whose id does not match the server's.
/// The server answers <c>dh_gen_retry</c> for such a key. mtcute retries by itself; GramJS fails that attempt
/// (<c>dh_gen_retry</c> aborts its handshake, real-clients.md §2.2), so a GramJS run that creates a key may be
/// repeated ONCE, and only when the failure looks like a failed handshake. Use it only for GramJS key creation;
/// every other failure is reported as is.
/// </summary>
/// <example>
/// <code>
/// // GramJS cannot retry dh_gen_retry itself (real-clients.md §5.1): one retry of the whole run is allowed.
/// ClientRun run = await RetryOn255ByteKey.RunAsync(NodeClient.GramJs, options);
/// run.EnsureOk();
/// </code>
/// </example>
public static class RetryOn255ByteKey
{
    /// <summary>
    /// Runs the client; when a GramJS run that had to create a key failed during the handshake, runs it once more.
    /// The returned run is the last one; its stderr starts with the first attempt's error when a retry happened.
    /// (Alternative inside one run: the driver option <c>handshake-retries = 2</c> makes GramJS start a second
    /// handshake on the same TCP connection.)
    /// </summary>
    public static async Task<ClientRun> RunAsync(NodeClient client, ClientOptions options, CancellationToken cancellationToken = default)
    {
        ClientRun first = await client.RunAsync(options, cancellationToken).ConfigureAwait(false);
        if (!ShouldRetry(client, options, first)) return first;
        ClientRun second = await client.RunAsync(options, cancellationToken).ConfigureAwait(false);
        return second with { Stderr = $"[RetryOn255ByteKey: first attempt failed: {first.Error}]\n{second.Stderr}" };
    }

    /// <summary>True for a failed GramJS key creation whose handshake did not complete (the only retryable case).</summary>
    public static bool ShouldRetry(NodeClient client, ClientOptions options, ClientRun run)
    {
        if (run.Ok || client != NodeClient.GramJs || options.AuthKey is not null) return false;
        // gramjs.cjs reports the step that failed and, for connect failures, details.handshake.attempts (calls of
        // GramJS's Authenticator): 0 means the transport failed before any handshake, which is not this bug.
        if (run.Line is not { } line) return false;
        bool failedInConnect = line.TryGetProperty("failedStep", out var step) && step.GetString() == "connect";
        bool handshakeRan = line.TryGetProperty("details", out var details)
            && details.TryGetProperty("handshake", out var hs)
            && hs.TryGetProperty("attempts", out var attempts)
            && attempts.GetInt32() >= 1;
        return failedInConnect && handshakeRan;
    }
}
