using System.Security.Cryptography;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Handshake;

/// <summary>Where the most recent handshake of a connection stands.</summary>
public enum HandshakePhase
{
    /// <summary>No req_pq yet.</summary>
    None,
    /// <summary>resPQ sent; waiting for req_DH_params.</summary>
    AwaitingDhParams,
    /// <summary>server_DH_params_ok (or dh_gen_retry) sent; waiting for set_client_DH_params.</summary>
    AwaitingClientDh,
    /// <summary>A key was agreed; the caller must call AcceptKey or RejectKey.</summary>
    AwaitingKeyDecision,
    /// <summary>dh_gen_ok sent: the key exists.</summary>
    Completed,
    /// <summary>The handshake failed (-404 / -444 / dh_gen_fail); it keeps failing.</summary>
    Failed,
}

/// <summary>
/// The server side of MTProto auth-key creation for ONE connection, as a pure state machine (no I/O, no
/// Orleans; not thread-safe: drive it from the connection's read loop).
/// </summary>
/// <remarks>
/// Gateway loop: for each frame whose auth_key_id is 0, split it with <see cref="UnencryptedMessage.TryRead"/>
/// (a refusal there is a -404), then call <see cref="Handle"/> with the body:
/// <list type="bullet">
/// <item><see cref="HandshakeOutcome.Reply"/>: send the body in an unencrypted message with a fresh server msg_id.</item>
/// <item><see cref="HandshakeOutcome.Fail"/>: send the transport error (-404 / -444); closing the connection is fine.</item>
/// <item><see cref="HandshakeOutcome.KeyReady"/>: register the key (AuthKeyGrain). If its id was free call
/// <see cref="AcceptKey"/>, else <see cref="RejectKey"/>, and send the body returned. No other message may be
/// handled in between.</item>
/// </list>
/// Rules (spec §6): state per (nonce, server_nonce); an exact repeat of an answered request gets the same
/// stored answer; req_pq may be repeated until req_DH_params; any invalid request gets -404 and the handshake
/// stays failed. Use <see cref="StartedAt"/> / <see cref="LastActivityAt"/> / <see cref="InProgress"/> to time
/// a handshake out.
/// </remarks>
public sealed class ServerHandshake : IDisposable
{
    private readonly RsaKeySet _keys;
    private readonly ServerHandshakeOptions _options;
    private readonly TimeProvider _time;
    private readonly HandshakeRandom _random;
    private readonly DhGroup _group;
    private readonly Dictionary<UInt128, Attempt> _attempts = [];
    private Attempt? _current;
    private Attempt? _pending;
    private int _messages;

    /// <param name="keys">The server's RSA keys (shared by all connections).</param>
    /// <param name="options">DC id and limits; validated here.</param>
    /// <param name="time">Clock for server_time and timestamps (default: system clock).</param>
    /// <param name="random">Random source (default: <see cref="RandomNumberGenerator.Fill"/>).</param>
    /// <param name="group">DH group (default: g = 3 with Telegram's prime).</param>
    public ServerHandshake(RsaKeySet keys, ServerHandshakeOptions options, TimeProvider? time = null, HandshakeRandom? random = null,
        DhGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _keys = keys;
        _options = options;
        _time = time ?? TimeProvider.System;
        _random = random ?? RandomNumberGenerator.Fill;
        _group = group ?? DhGroup.Telegram;
        CreatedAt = _time.GetUtcNow();
    }

    /// <summary>When this state machine was created (connection start).</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When the most recent handshake began (its first req_pq), or null.</summary>
    public DateTimeOffset? StartedAt => _current?.StartedAt;

    /// <summary>When the last handshake message arrived, or null.</summary>
    public DateTimeOffset? LastActivityAt { get; private set; }

    /// <summary>Phase of the most recent handshake.</summary>
    public HandshakePhase Phase => _current?.Phase ?? HandshakePhase.None;

    /// <summary>A handshake has started and has neither completed nor failed (a gateway times these out).</summary>
    public bool InProgress => _attempts.Values.Any(a => a.Phase is HandshakePhase.AwaitingDhParams
        or HandshakePhase.AwaitingClientDh or HandshakePhase.AwaitingKeyDecision);

    /// <summary>Handshake messages handled so far.</summary>
    public int MessageCount => _messages;

    /// <summary>Keys accepted on this connection.</summary>
    public int CompletedKeys { get; private set; }

    /// <summary>
    /// True when a handshake is <see cref="InProgress"/> and began more than <paramref name="timeout"/> ago (by the
    /// clock given to the constructor): the gateway should then close the connection.
    /// </summary>
    public bool HasTimedOut(TimeSpan timeout) =>
        _attempts.Values.Any(a => (a.Phase is HandshakePhase.AwaitingDhParams or HandshakePhase.AwaitingClientDh
            or HandshakePhase.AwaitingKeyDecision) && _time.GetUtcNow() - a.StartedAt > timeout);

    /// <summary>Wipes the DH secrets of unfinished handshakes, which then count as failed (call when the connection closes).</summary>
    public void Dispose()
    {
        foreach (var attempt in _attempts.Values)
        {
            if (attempt.Phase != HandshakePhase.Completed) attempt.Phase = HandshakePhase.Failed;
            attempt.WipeSecrets();
        }
        _pending = null;
    }

    /// <summary>
    /// Handles one unencrypted message body from the client. Never throws for malformed input; throws
    /// <see cref="InvalidOperationException"/> only when called while a key decision is pending.
    /// </summary>
    public HandshakeOutcome Handle(ReadOnlySpan<byte> body)
    {
        if (_pending is not null)
        {
            throw new InvalidOperationException("A key decision is pending: call AcceptKey or RejectKey before handling the next message.");
        }
        LastActivityAt = _time.GetUtcNow();
        if (++_messages > _options.MaxMessagesPerConnection) return Fail(HandshakeError.TooManyMessages);

        foreach (var attempt in _attempts.Values)
        {
            if (attempt.TryGetStoredAnswer(body, out var stored))
            {
                return attempt.Phase == HandshakePhase.Failed ? Fail(HandshakeError.HandshakeFailed) : new HandshakeOutcome.Reply(stored);
            }
        }

        var reader = new TlReader(body);
        return reader.PeekUInt32() switch
        {
            HandshakeIds.ReqPq or HandshakeIds.ReqPqMulti => HandleReqPq(body),
            HandshakeIds.ReqDhParams => HandleReqDhParams(body),
            HandshakeIds.SetClientDhParams => HandleSetClientDhParams(body),
            _ => Fail(body.Length < 4 ? HandshakeError.Malformed : HandshakeError.UnexpectedConstructor),
        };
    }

    /// <summary>The key of the last <see cref="HandshakeOutcome.KeyReady"/> is stored: returns dh_gen_ok to send.</summary>
    public byte[] AcceptKey()
    {
        var attempt = _pending ?? throw new InvalidOperationException("No key decision is pending.");
        _pending = null;
        var answer = attempt.PendingOk!;
        attempt.Remember(attempt.PendingRequest!, answer);
        attempt.Phase = HandshakePhase.Completed;
        attempt.ClearPending();
        attempt.WipeSecrets();
        CompletedKeys++;
        return answer;
    }

    /// <summary>
    /// The key of the last <see cref="HandshakeOutcome.KeyReady"/> cannot be stored (its auth_key_id is taken):
    /// returns dh_gen_retry to send (the client answers with a new g_b), or dh_gen_fail when no retry is left.
    /// </summary>
    public byte[] RejectKey()
    {
        var attempt = _pending ?? throw new InvalidOperationException("No key decision is pending.");
        _pending = null;
        var answer = attempt.PendingRetry!;
        attempt.Remember(attempt.PendingRequest!, answer);
        if (attempt.PendingCanRetry)
        {
            attempt.Retries++;
            attempt.ExpectedRetryId = attempt.AlternateRetryId = attempt.PendingAuxHash;
            attempt.Phase = HandshakePhase.AwaitingClientDh;
        }
        else
        {
            attempt.Phase = HandshakePhase.Failed;
            attempt.WipeSecrets();
        }
        attempt.ClearPending();
        return answer;
    }

    private HandshakeOutcome HandleReqPq(ReadOnlySpan<byte> body)
    {
        var reader = new TlReader(body);
        if (!ReqPq.TryRead(ref reader, out var request) || !End(ref reader)) return Fail(HandshakeError.Malformed);

        if (_attempts.TryGetValue(request.Nonce, out var attempt))
        {
            if (attempt.Phase == HandshakePhase.Failed) return Fail(HandshakeError.HandshakeFailed);
            if (attempt.Phase != HandshakePhase.AwaitingDhParams) return Fail(attempt, HandshakeError.UnexpectedRequest);
            // Asked again before req_DH_params (e.g. req_pq then req_pq_multi): answer again, same server_nonce and pq.
            var again = attempt.ResPqAnswer;
            attempt.Remember(body.ToArray(), again);
            return new HandshakeOutcome.Reply(again);
        }
        if (_attempts.Count >= _options.MaxHandshakesPerConnection) return Fail(HandshakeError.TooManyHandshakes);

        Span<byte> sn = stackalloc byte[16];
        _random(sn);
        var (p, q) = PqGenerator.Generate(_random);
        attempt = new Attempt(request.Nonce, System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(sn), p, q, _time.GetUtcNow());
        var answer = Serialize(new ResPq(attempt.Nonce, attempt.ServerNonce, PqGenerator.ToBigEndian((ulong)p * q), _keys.Fingerprints.ToArray()).Write);
        attempt.ResPqAnswer = answer;
        attempt.Remember(body.ToArray(), answer);
        _attempts.Add(attempt.Nonce, attempt);
        _current = attempt;
        return new HandshakeOutcome.Reply(answer);
    }

    private HandshakeOutcome HandleReqDhParams(ReadOnlySpan<byte> body)
    {
        var reader = new TlReader(body);
        if (!ReqDhParams.TryRead(ref reader, out var request) || !End(ref reader)) return Fail(HandshakeError.Malformed);
        if (!TryFind(request.Nonce, request.ServerNonce, out var attempt, out var failure)) return failure;
        if (attempt.Phase != HandshakePhase.AwaitingDhParams) return Fail(attempt, HandshakeError.UnexpectedRequest);

        if (!PqGenerator.TryReadBigEndian(request.P, out ulong p) || !PqGenerator.TryReadBigEndian(request.Q, out ulong q)
            || p != attempt.P || q != attempt.Q)
        {
            return Fail(attempt, HandshakeError.WrongPq);
        }
        if (!_keys.TryGet(request.Fingerprint, out var key)) return Fail(attempt, HandshakeError.UnknownFingerprint);

        var ciphertext = RsaServerKey.TrimLeadingZeros(request.EncryptedData);
        if (ciphertext.Length == 0 || ciphertext.Length > RsaServerKey.ModulusBytes) return Fail(attempt, HandshakeError.BadRsaCiphertext);
        Span<byte> m = stackalloc byte[RsaServerKey.ModulusBytes];
        PqInnerData inner;
        RsaScheme scheme;
        try
        {
            if (!key.TryDecryptRaw(ciphertext, m)) return Fail(attempt, HandshakeError.BadRsaCiphertext);
            var unwrap = HandshakeCrypto.TryUnwrapInnerData(m, out inner, out scheme);
            if (unwrap != HandshakeError.None) return Fail(attempt, unwrap);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(m);
        }

        if (inner.Nonce != attempt.Nonce || inner.ServerNonce != attempt.ServerNonce) return Fail(attempt, HandshakeError.InnerNonceMismatch);
        if (!PqGenerator.TryReadBigEndian(inner.Pq, out ulong innerPq) || !PqGenerator.TryReadBigEndian(inner.P, out ulong innerP)
            || !PqGenerator.TryReadBigEndian(inner.Q, out ulong innerQ)
            || innerPq != (ulong)attempt.P * attempt.Q || innerP != attempt.P || innerQ != attempt.Q)
        {
            return Fail(attempt, HandshakeError.InnerPqMismatch);
        }
        if (inner.Dc is int dc && _options.EnforceDcId && Math.Abs((long)dc) != Math.Abs((long)_options.DcId))
        {
            return Fail(attempt, HandshakeError.DcMismatch);
        }
        if (inner.IsTemporary && (inner.ExpiresIn is not int ttl || ttl <= 0 || ttl > _options.MaxTemporaryKeyLifetime))
        {
            return Fail(attempt, HandshakeError.BadExpiresIn);
        }

        // Server half of DH.
        attempt.Inner = inner;
        attempt.Scheme = scheme;
        attempt.NewNonce = inner.NewNonce;
        attempt.A = new byte[DhGroup.PrimeBytes];
        var gA = new byte[DhGroup.PrimeBytes];
        _group.GenerateKeyPair(_random, attempt.A, gA);
        attempt.TmpKey = new byte[32];
        attempt.TmpIv = new byte[32];
        var serverNonceBytes = TlNonce.ToBytes(attempt.ServerNonce);
        HandshakeCrypto.DeriveTmpAes(inner.NewNonce, serverNonceBytes, attempt.TmpKey, attempt.TmpIv);

        int serverTime = (int)_time.GetUtcNow().ToUnixTimeSeconds();
        var answer = Serialize(new ServerDhInnerData(attempt.Nonce, attempt.ServerNonce, _group.G, _group.Prime.ToArray(), gA, serverTime).Write);
        var encrypted = HandshakeCrypto.EncryptAnswer(answer, attempt.TmpKey, attempt.TmpIv, _random);
        var reply = Serialize(new ServerDhParamsOk(attempt.Nonce, attempt.ServerNonce, encrypted).Write);
        attempt.Remember(body.ToArray(), reply);
        attempt.Phase = HandshakePhase.AwaitingClientDh;
        return new HandshakeOutcome.Reply(reply);
    }

    private HandshakeOutcome HandleSetClientDhParams(ReadOnlySpan<byte> body)
    {
        var reader = new TlReader(body);
        if (!SetClientDhParams.TryRead(ref reader, out var request) || !End(ref reader)) return Fail(HandshakeError.Malformed);
        if (!TryFind(request.Nonce, request.ServerNonce, out var attempt, out var failure)) return failure;
        if (attempt.Phase != HandshakePhase.AwaitingClientDh) return Fail(attempt, HandshakeError.UnexpectedRequest);

        // SHA1 (20) || client_DH_inner_data (48 + g_b) || 0..15 padding, AES-IGE with the tmp key.
        var data = request.EncryptedData;
        if (data.Length % 16 != 0 || data.Length < 80 || data.Length > 640) return Fail(attempt, HandshakeError.BadEncryptedDataLength);
        var plain = new byte[data.Length];
        AesIge.Decrypt(attempt.TmpKey, attempt.TmpIv, data, plain);

        var innerReader = new TlReader(plain.AsSpan(20));
        if (!ClientDhInnerData.TryRead(ref innerReader, out var inner) || innerReader.Remaining > 15)
        {
            return Fail(attempt, HandshakeError.BadClientDhData);
        }
        Span<byte> sha = stackalloc byte[20];
        SHA1.HashData(plain.AsSpan(20, innerReader.Position), sha);
        if (!CryptographicOperations.FixedTimeEquals(sha, plain.AsSpan(0, 20))) return Fail(attempt, HandshakeError.BadClientDhHash);
        if (inner.Nonce != attempt.Nonce || inner.ServerNonce != attempt.ServerNonce) return Fail(attempt, HandshakeError.InnerNonceMismatch);
        if (inner.RetryId != attempt.ExpectedRetryId && inner.RetryId != attempt.AlternateRetryId) return Fail(attempt, HandshakeError.WrongRetryId);

        var gbMinimal = RsaServerKey.TrimLeadingZeros(inner.GB);
        if (gbMinimal.Length > DhGroup.PrimeBytes) return Fail(attempt, HandshakeError.GbOutOfRange);
        Span<byte> gb = stackalloc byte[DhGroup.PrimeBytes];
        gb.Clear();
        gbMinimal.CopyTo(gb[(DhGroup.PrimeBytes - gbMinimal.Length)..]);
        if (!_group.IsInSafeRange(gb)) return Fail(attempt, HandshakeError.GbOutOfRange);

        var authKey = new byte[DhGroup.PrimeBytes];
        _group.ComputeSharedKey(gb, attempt.A, authKey);
        var ids = new AuthKey(authKey);
        long authKeyId = ids.Id, auxHash = ids.AuxHash;
        var newNonce = attempt.NewNonce!;
        bool canRetry = attempt.Retries < _options.MaxRetries;

        if ((_options.RetryOnShortKey && authKey[0] == 0) || authKeyId == 0)
        {
            // A key clients would store as 255 bytes (or whose id is 0, the unencrypted marker): ask for another b.
            // Clients that hold such a key stripped (mtcute) check new_nonce_hash2 and send retry_id with the aux hash
            // of the STRIPPED key, so the answer is hashed with that one; retry_id may be either form (a client
            // holding the 256-byte key sends the full key's aux hash). For a key with a non-zero top byte both agree.
            long strippedAuxHash = StrippedAuxHash(authKey);
            CryptographicOperations.ZeroMemory(authKey);
            var answer = DhGen(attempt, canRetry ? DhGenKind.Retry : DhGenKind.Fail, newNonce, strippedAuxHash);
            attempt.Remember(body.ToArray(), answer);
            if (canRetry)
            {
                attempt.Retries++;
                attempt.ExpectedRetryId = auxHash;
                attempt.AlternateRetryId = strippedAuxHash;
            }
            else
            {
                attempt.Phase = HandshakePhase.Failed;
                attempt.WipeSecrets();
            }
            return new HandshakeOutcome.Reply(answer);
        }

        var inn = attempt.Inner!;
        var key = new NewAuthKey(
            authKey,
            authKeyId,
            auxHash,
            ServerSalts.Initial(newNonce, TlNonce.ToBytes(attempt.ServerNonce)),
            inn.IsTemporary,
            inn.IsTemporary ? inn.ExpiresIn!.Value : 0,
            inn.Dc,
            inn.Kind,
            attempt.Scheme,
            _time.GetUtcNow());
        attempt.PendingRequest = body.ToArray();
        attempt.PendingOk = DhGen(attempt, DhGenKind.Ok, newNonce, auxHash);
        attempt.PendingRetry = DhGen(attempt, canRetry ? DhGenKind.Retry : DhGenKind.Fail, newNonce, auxHash);
        attempt.PendingCanRetry = canRetry;
        attempt.PendingAuxHash = auxHash;
        attempt.Phase = HandshakePhase.AwaitingKeyDecision;
        _pending = attempt;
        return new HandshakeOutcome.KeyReady(key, attempt.PendingOk, attempt.PendingRetry, canRetry);
    }

    /// <summary>auth_key_aux_hash of the key without its leading zero bytes (SHA1 of the stripped key, first 8 bytes LE).</summary>
    internal static long StrippedAuxHash(ReadOnlySpan<byte> authKey)
    {
        Span<byte> sha = stackalloc byte[20];
        SHA1.HashData(RsaServerKey.TrimLeadingZeros(authKey), sha);
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(sha);
    }

    private static byte[] DhGen(Attempt attempt, DhGenKind kind, byte[] newNonce, long auxHash) =>
        Serialize(new DhGenResult(kind, attempt.Nonce, attempt.ServerNonce, HandshakeCrypto.NewNonceHash(newNonce, (int)kind, auxHash)).Write);

    private bool TryFind(UInt128 nonce, UInt128 serverNonce, out Attempt attempt, out HandshakeOutcome failure)
    {
        if (!_attempts.TryGetValue(nonce, out attempt!))
        {
            failure = Fail(HandshakeError.UnknownNonce);
            return false;
        }
        if (attempt.Phase == HandshakePhase.Failed)
        {
            failure = Fail(HandshakeError.HandshakeFailed);
            return false;
        }
        if (serverNonce != attempt.ServerNonce)
        {
            failure = Fail(attempt, HandshakeError.WrongServerNonce);
            return false;
        }
        failure = null!;
        return true;
    }

    private static bool End(ref TlReader reader)
    {
        reader.ExpectEnd();
        return reader.Ok;
    }

    private static HandshakeOutcome.Fail Fail(HandshakeError error) =>
        new(error == HandshakeError.DcMismatch ? HandshakeOutcome.TransportErrorInvalidDc : HandshakeOutcome.TransportErrorNotFound, error);

    private static HandshakeOutcome.Fail Fail(Attempt attempt, HandshakeError error)
    {
        attempt.Phase = HandshakePhase.Failed;
        attempt.WipeSecrets();
        return Fail(error);
    }

    private static byte[] Serialize(Action<TlWriter> write)
    {
        using var w = new TlWriter(640);
        write(w);
        return w.ToArray();
    }

    /// <summary>One handshake: everything keyed by (nonce, server_nonce).</summary>
    private sealed class Attempt(UInt128 nonce, UInt128 serverNonce, uint p, uint q, DateTimeOffset startedAt)
    {
        private readonly List<(byte[] Request, byte[] Answer)> _answered = [];

        public UInt128 Nonce { get; } = nonce;
        public UInt128 ServerNonce { get; } = serverNonce;
        public uint P { get; } = p;
        public uint Q { get; } = q;
        public DateTimeOffset StartedAt { get; } = startedAt;
        public HandshakePhase Phase { get; set; } = HandshakePhase.AwaitingDhParams;
        public byte[] ResPqAnswer { get; set; } = [];

        public PqInnerData? Inner { get; set; }
        public RsaScheme Scheme { get; set; }
        public byte[]? NewNonce { get; set; }
        public byte[]? A { get; set; }
        public byte[]? TmpKey { get; set; }
        public byte[]? TmpIv { get; set; }
        public long ExpectedRetryId { get; set; }
        /// <summary>The other accepted retry_id: the stripped key's aux hash after a short-key retry, else the same.</summary>
        public long AlternateRetryId { get; set; }
        public int Retries { get; set; }

        public byte[]? PendingRequest { get; set; }
        public byte[]? PendingOk { get; set; }
        public byte[]? PendingRetry { get; set; }
        public bool PendingCanRetry { get; set; }
        public long PendingAuxHash { get; set; }

        public void Remember(byte[] request, byte[] answer) => _answered.Add((request, answer));

        public bool TryGetStoredAnswer(ReadOnlySpan<byte> request, out byte[] answer)
        {
            foreach (var (req, ans) in _answered)
            {
                if (request.SequenceEqual(req))
                {
                    answer = ans;
                    return true;
                }
            }
            answer = [];
            return false;
        }

        public void ClearPending()
        {
            PendingRequest = PendingOk = PendingRetry = null;
            PendingCanRetry = false;
            PendingAuxHash = 0;
        }

        public void WipeSecrets()
        {
            if (A is not null) CryptographicOperations.ZeroMemory(A);
            if (TmpKey is not null) CryptographicOperations.ZeroMemory(TmpKey);
            if (TmpIv is not null) CryptographicOperations.ZeroMemory(TmpIv);
            if (NewNonce is not null) CryptographicOperations.ZeroMemory(NewNonce);
            A = TmpKey = TmpIv = NewNonce = null;
            Inner = null;
        }
    }
}
