using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Client;

/// <summary>What <see cref="MtProtoSession.DestroyAuthKeyAsync"/> got back.</summary>
public enum DestroyAuthKeyResult
{
    Ok,
    None,
    Fail,
}

/// <summary>A message to send exactly as given (for protocol tests): any body, any header values.</summary>
public sealed record RawMessage(ReadOnlyMemory<byte> Body)
{
    /// <summary>Odd seq_no (used when <see cref="SeqNo"/> is null).</summary>
    public bool ContentRelated { get; init; }

    /// <summary>msg_id to use; null takes the next one.</summary>
    public long? MsgId { get; init; }

    /// <summary>seq_no to use; null takes the next one.</summary>
    public int? SeqNo { get; init; }

    /// <summary>Salt to put in the header; null uses the session's.</summary>
    public long? Salt { get; init; }

    /// <summary>Session id to put in the header; null uses the session's.</summary>
    public long? SessionId { get; init; }

    /// <summary>Ask the server for a quick ack (abridged and intermediate only).</summary>
    public bool QuickAck { get; init; }

    /// <summary>Extra 16-byte padding blocks (0..62).</summary>
    public int ExtraPaddingBlocks { get; init; }
}

/// <summary>What was sent: header values and the quick-ack token the server would answer with.</summary>
public readonly record struct SentMessage(long MsgId, int SeqNo, uint QuickAckToken);

/// <summary>
/// An encrypted MTProto 2.0 session (auth key + session id) on a <see cref="MtProtoConnection"/>: msg_ids, seq_nos,
/// salts, acknowledgements and answers to calls. Thread-safe; any number of calls may be in flight (pipelining).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Calls: <see cref="InvokeAsync"/> (any API query, content-related; answer by rpc_result req_msg_id, gzip_packed
/// inflated, rpc_error reported), <see cref="PingAsync"/> (pong by msg_id), <see cref="GetFutureSaltsAsync"/> and
/// <see cref="GetStateAsync"/> (by req_msg_id), <see cref="DestroySessionAsync"/> (by session_id),
/// <see cref="DestroyAuthKeyAsync"/>. Every call has a time limit (<see cref="MtProtoSessionOptions.CallTimeout"/>).</item>
/// <item>Recovery: bad_server_salt -> adopt the salt and re-send; bad_msg_notification 16/17 -> adopt the server clock
/// from its msg_id and re-send; new_session_created -> adopt its salt, re-send what preceded first_msg_id. Other codes fail
/// the call with <see cref="BadMsgNotificationException"/>.</item>
/// <item>Acknowledgements: every content-related server message is acknowledged; acks ride in a container with the next
/// message, or go alone after <see cref="MtProtoSessionOptions.AckDelay"/>.</item>
/// <item>Observation: <see cref="MessageReceived"/> sees every received message (container items one by one);
/// <see cref="WaitForMessageAsync"/> awaits one; <see cref="SendRaw"/> sends anything.</item>
/// </list>
/// </remarks>
public sealed class MtProtoSession : IAsyncDisposable
{
    private readonly MtProtoConnection _connection;
    private readonly MtProtoSessionOptions _options;
    private readonly object _gate = new();
    private readonly ClientMsgIds _msgIds;
    private readonly ClientSeqNo _seqNo = new();
    private readonly Dictionary<long, Pending> _pending = [];
    private readonly List<long> _acks = [];
    private readonly Queue<ReceivedMessage> _history = new();
    private readonly List<Waiter> _waiters = [];
    private readonly Timer _timer;
    private long _salt;
    private bool _ackTimerArmed;
    private Exception? _fault;
    private long _nextSweep;

    internal MtProtoSession(MtProtoConnection connection, AuthKey key, long salt, MtProtoSessionOptions options, TimeSpan timeOffset)
    {
        _connection = connection;
        _options = options;
        AuthKey = key;
        _salt = salt;
        _msgIds = new ClientMsgIds(offset: timeOffset);
        SessionId = options.SessionId ?? SecureRandom.NonZeroInt64();
        _timer = new Timer(static s => ((MtProtoSession)s!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public AuthKey AuthKey { get; }

    public long SessionId { get; }

    public MtProtoConnection Connection => _connection;

    /// <summary>The salt put in outgoing headers (adopted from bad_server_salt / new_session_created).</summary>
    public long Salt
    {
        get
        {
            lock (_gate) return _salt;
        }
        set
        {
            lock (_gate) _salt = value;
        }
    }

    /// <summary>Server clock minus local clock, as the msg_ids use it.</summary>
    public TimeSpan TimeOffset
    {
        get
        {
            lock (_gate) return _msgIds.Offset;
        }
    }

    /// <summary>The last new_session_created received, or null.</summary>
    public NewSessionCreated? LastNewSession { get; private set; }

    /// <summary>Calls waiting for their answer.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate) return _pending.Count;
        }
    }

    /// <summary>Counters: messages re-sent after bad_server_salt / bad_msg 16-17 / new_session_created.</summary>
    public int Resends => Volatile.Read(ref _resends);
    private int _resends;

    /// <summary>
    /// Raised on the connection's read loop for every message of this session, container items one by one (after the
    /// container itself). Handlers must be quick and must not block.
    /// </summary>
    public event Action<ReceivedMessage>? MessageReceived;

    // ---------------------------------------------------------------- calls

    /// <summary>Sends an API query (content-related) and awaits its rpc_result.</summary>
    public async Task<RpcResponse> InvokeAsync(ReadOnlyMemory<byte> query, CancellationToken cancellationToken = default)
    {
        var answer = await Call(query.ToArray(), contentRelated: true, AnswerKind.RpcResult, 0, cancellationToken).ConfigureAwait(false);
        return answer.Response!;
    }

    /// <summary>ping#7abe77ec -> pong (matched by msg_id). Sent content-related or not as asked (servers take both).</summary>
    public async Task<Pong> PingAsync(long? pingId = null, bool contentRelated = false, CancellationToken cancellationToken = default)
    {
        var answer = await Call(new Ping(pingId ?? Random.Shared.NextInt64()).ToBytes(), contentRelated, AnswerKind.ByMsgId, 0, cancellationToken).ConfigureAwait(false);
        return Expect<Pong>(answer);
    }

    /// <summary>ping_delay_disconnect#f3427b8c: pong, and the server closes the connection after <paramref name="disconnectDelay"/> s of silence.</summary>
    public async Task<Pong> PingDelayDisconnectAsync(int disconnectDelay, long? pingId = null, CancellationToken cancellationToken = default)
    {
        var body = new PingDelayDisconnect(pingId ?? Random.Shared.NextInt64(), disconnectDelay).ToBytes();
        return Expect<Pong>(await Call(body, false, AnswerKind.ByMsgId, 0, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>get_future_salts#b921bd04 -> future_salts (matched by req_msg_id).</summary>
    public async Task<FutureSalts> GetFutureSaltsAsync(int num, CancellationToken cancellationToken = default)
    {
        var answer = await Call(new GetFutureSalts(num).ToBytes(), false, AnswerKind.ByMsgId, 0, cancellationToken).ConfigureAwait(false);
        return Expect<FutureSalts>(answer);
    }

    /// <summary>msgs_state_req#da69fb52 -> msgs_state_info (matched by req_msg_id).</summary>
    public async Task<MsgsStateInfo> GetStateAsync(IEnumerable<long> msgIds, CancellationToken cancellationToken = default)
    {
        var answer = await Call(new MsgsStateReq([.. msgIds]).ToBytes(), false, AnswerKind.ByMsgId, 0, cancellationToken).ConfigureAwait(false);
        return Expect<MsgsStateInfo>(answer);
    }

    /// <summary>destroy_session#e7512126 -> true for destroy_session_ok, false for destroy_session_none (matched by session_id).</summary>
    public async Task<bool> DestroySessionAsync(long sessionId, bool contentRelated = false, CancellationToken cancellationToken = default)
    {
        var answer = await Call(new DestroySession(sessionId).ToBytes(), contentRelated, AnswerKind.DestroySession, sessionId, cancellationToken).ConfigureAwait(false);
        return answer.Object switch
        {
            DestroySessionOk => true,
            DestroySessionNone => false,
            _ => throw new MtProtoClientException($"destroy_session was answered with #{answer.ConstructorId:x8}."),
        };
    }

    /// <summary>destroy_auth_key#d1435160 -> ok / none / fail.</summary>
    public async Task<DestroyAuthKeyResult> DestroyAuthKeyAsync(CancellationToken cancellationToken = default)
    {
        var answer = await Call(DestroyAuthKey.Instance.ToBytes(), false, AnswerKind.DestroyAuthKey, 0, cancellationToken).ConfigureAwait(false);
        return answer.Object switch
        {
            DestroyAuthKeyOk => DestroyAuthKeyResult.Ok,
            DestroyAuthKeyNone => DestroyAuthKeyResult.None,
            DestroyAuthKeyFail => DestroyAuthKeyResult.Fail,
            _ => throw new MtProtoClientException($"destroy_auth_key was answered with #{answer.ConstructorId:x8}."),
        };
    }

    /// <summary>
    /// Sends several calls in ONE msg_container and returns one task per body (answers matched as for the single calls:
    /// rpc_result, or a bare answer by msg_id).
    /// </summary>
    public Task<ReceivedAnswer>[] SendInContainer(IReadOnlyList<(ReadOnlyMemory<byte> Body, bool ContentRelated)> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count is 0 or > 1000) throw new ArgumentOutOfRangeException(nameof(messages));
        var pending = new Pending[messages.Count];
        for (int i = 0; i < pending.Length; i++)
        {
            var kind = ClassifyAnswer(messages[i].Body.Span, out long target);
            pending[i] = new Pending(messages[i].Body.ToArray(), messages[i].ContentRelated, kind, target, Deadline());
        }
        Send(pending, forceContainer: true, cancellationToken);
        return pending.Select(p => p.Tcs.Task).ToArray();
    }

    /// <summary>Sends a body as a call (answer matched as <see cref="SendInContainer"/> does) and awaits its answer.</summary>
    public Task<ReceivedAnswer> CallAsync(ReadOnlyMemory<byte> body, bool contentRelated, CancellationToken cancellationToken = default)
    {
        var kind = ClassifyAnswer(body.Span, out long target);
        return Call(body.ToArray(), contentRelated, kind, target, cancellationToken);
    }

    private static AnswerKind ClassifyAnswer(ReadOnlySpan<byte> body, out long target)
    {
        target = 0;
        uint id = body.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(body) : 0;
        switch (id)
        {
            case ConstructorIds.Ping or ConstructorIds.PingDelayDisconnect or ConstructorIds.GetFutureSalts or ConstructorIds.MsgsStateReq:
                return AnswerKind.ByMsgId;
            case ConstructorIds.DestroySession when body.Length >= 12:
                target = BinaryPrimitives.ReadInt64LittleEndian(body[4..]);
                return AnswerKind.DestroySession;
            case ConstructorIds.DestroyAuthKey:
                return AnswerKind.DestroyAuthKey;
            default:
                return AnswerKind.RpcResult;
        }
    }

    private Task<ReceivedAnswer> Call(byte[] body, bool contentRelated, AnswerKind kind, long target, CancellationToken cancellationToken)
    {
        var p = new Pending(body, contentRelated, kind, target, Deadline());
        Send([p], forceContainer: false, cancellationToken);
        return p.Tcs.Task;
    }

    /// <summary>Sends calls (watching their cancellation) and tracks them until answered.</summary>
    private void Send(Pending[] pending, bool forceContainer, CancellationToken cancellationToken)
    {
        foreach (var p in pending) Watch(p, cancellationToken);
        try
        {
            lock (_gate)
            {
                ThrowIfFailed();
                SendLocked(pending, forceContainer);
                foreach (var p in pending) Track(p);
            }
        }
        catch
        {
            foreach (var p in pending) p.Cancellation.Unregister(); // not sent: nothing to cancel
            throw;
        }
        EnsureTimer();
    }

    /// <summary>A sent call waits for its answer, unless it was cancelled already (under <see cref="_gate"/>).</summary>
    private void Track(Pending p)
    {
        if (!p.Tcs.Task.IsCompleted) _pending[p.MsgId] = p;
    }

    /// <summary>
    /// Cancelling <paramref name="cancellationToken"/> abandons the call. Registered before the call is sent and
    /// published (so whoever completes it sees the registration), and released when it completes (<see cref="Pending.SetResult"/>).
    /// </summary>
    private void Watch(Pending p, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled) return;
        p.Cancellation = cancellationToken.UnsafeRegister(static s =>
        {
            var (session, pending) = ((MtProtoSession, Pending))s!;
            session.Abandon(pending, new OperationCanceledException("The call was cancelled."));
        }, (this, p));
    }

    private long Deadline() => Stopwatch.GetTimestamp() + (long)(_options.CallTimeout.TotalSeconds * Stopwatch.Frequency);

    private static T Expect<T>(ReceivedAnswer answer) where T : TlObject =>
        answer.Object as T ?? throw new MtProtoClientException($"Expected {typeof(T).Name}; the server answered #{answer.ConstructorId:x8}.");

    // ---------------------------------------------------------------- raw

    /// <summary>
    /// Sends one message exactly as described (no answer tracking, no re-send). Pending acknowledgements are not added.
    /// Watch the answer with <see cref="WaitForMessageAsync"/> (register the wait first).
    /// </summary>
    public SentMessage SendRaw(RawMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        lock (_gate)
        {
            ThrowIfFailed();
            long msgId = message.MsgId ?? _msgIds.Next();
            int seqNo = message.SeqNo ?? _seqNo.Next(message.ContentRelated);
            var header = new MessageHeader(message.Salt ?? _salt, message.SessionId ?? SessionId, msgId, seqNo);
            uint token = Encrypt(header, message.Body.Span, message.ExtraPaddingBlocks, message.QuickAck);
            return new SentMessage(msgId, seqNo, token);
        }
    }

    /// <summary>Takes the next msg_id (e.g. to build a container by hand for <see cref="SendRaw"/>).</summary>
    public long NextMsgId()
    {
        lock (_gate) return _msgIds.Next();
    }

    /// <summary>Takes the next seq_no.</summary>
    public int NextSeqNo(bool contentRelated)
    {
        lock (_gate) return _seqNo.Next(contentRelated);
    }

    /// <summary>
    /// Waits for a received message matching <paramref name="predicate"/>; with <paramref name="includeHistory"/> the
    /// messages already received (up to <see cref="MtProtoSessionOptions.HistorySize"/>) count too.
    /// </summary>
    public Task<ReceivedMessage> WaitForMessageAsync(Func<ReceivedMessage, bool> predicate, TimeSpan? timeout = null, bool includeHistory = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var waiter = new Waiter(predicate);
        lock (_gate)
        {
            if (includeHistory)
            {
                foreach (var m in _history)
                {
                    if (predicate(m)) return Task.FromResult(m);
                }
            }
            if (_fault is not null) return Task.FromException<ReceivedMessage>(_fault);
            _waiters.Add(waiter);
        }
        var limit = timeout ?? _options.CallTimeout;
        return WaitAsync(waiter, limit, cancellationToken);
    }

    private async Task<ReceivedMessage> WaitAsync(Waiter waiter, TimeSpan limit, CancellationToken cancellationToken)
    {
        try
        {
            return await waiter.Tcs.Task.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No matching message within {limit.TotalSeconds:0.###} s.");
        }
        finally
        {
            lock (_gate) _waiters.Remove(waiter);
        }
    }

    /// <summary>The messages received so far (newest last, at most <see cref="MtProtoSessionOptions.HistorySize"/>).</summary>
    public IReadOnlyList<ReceivedMessage> History
    {
        get
        {
            lock (_gate) return [.. _history];
        }
    }

    /// <summary>Sends the pending acknowledgements now (if any) as one msgs_ack.</summary>
    public void FlushAcks()
    {
        lock (_gate)
        {
            if (_fault is null) SendAcksLocked();
        }
    }

    // ---------------------------------------------------------------- sending

    /// <summary>Assigns ids and sends the calls, in one container when more than one message goes (acks included).</summary>
    private void SendLocked(Pending[] calls, bool forceContainer)
    {
        long[]? acks = _options.PiggybackAcks && _acks.Count > 0 ? TakeAcks() : null;
        int count = calls.Length + (acks is null ? 0 : 1);
        if (count == 1 && !forceContainer)
        {
            var p = calls[0];
            p.MsgId = _msgIds.Next();
            p.SeqNo = _seqNo.Next(p.ContentRelated);
            p.ContainerId = 0;
            Encrypt(new MessageHeader(_salt, SessionId, p.MsgId, p.SeqNo), p.Body, 0, false);
            return;
        }
        var items = new OutgoingMessage[count];
        int i = 0;
        if (acks is not null)
        {
            items[i++] = new OutgoingMessage(_msgIds.Next(), _seqNo.Next(false), new MsgsAck(ImmutableArray.Create(acks)).ToBytes());
        }
        foreach (var p in calls)
        {
            p.MsgId = _msgIds.Next();
            p.SeqNo = _seqNo.Next(p.ContentRelated);
            items[i++] = new OutgoingMessage(p.MsgId, p.SeqNo, p.Body);
        }
        long containerId = _msgIds.Next();
        foreach (var p in calls) p.ContainerId = containerId;
        var container = ClientMessages.BuildContainer(items);
        Encrypt(new MessageHeader(_salt, SessionId, containerId, _seqNo.Next(false)), container, 0, false);
    }

    private long[] TakeAcks()
    {
        var ids = _acks.ToArray();
        _acks.Clear();
        return ids;
    }

    private void SendAcksLocked()
    {
        if (_acks.Count == 0) return;
        var ids = TakeAcks();
        for (int start = 0; start < ids.Length; start += ServiceSchema.MaxMsgIds)
        {
            var chunk = ids.AsSpan(start, Math.Min(ServiceSchema.MaxMsgIds, ids.Length - start)).ToArray();
            var body = new MsgsAck(ImmutableArray.Create(chunk)).ToBytes();
            Encrypt(new MessageHeader(_salt, SessionId, _msgIds.Next(), _seqNo.Next(false)), body, 0, false);
        }
    }

    private uint Encrypt(in MessageHeader header, ReadOnlySpan<byte> body, int extraPaddingBlocks, bool quickAck)
    {
        int length = MessageCipher.GetEncryptedLength(body.Length, extraPaddingBlocks);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        int n;
        uint token;
        try
        {
            n = MessageCipher.Encrypt(AuthKey, MessageSender.Client, header, body, buffer, extraPaddingBlocks, out token);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        _connection.Enqueue(new MtProtoConnection.OutgoingFrame(buffer, n, quickAck));
        return token;
    }

    // ---------------------------------------------------------------- receiving

    /// <summary>One decrypted message of this session (connection read loop).</summary>
    internal void OnMessage(in MessageHeader header, ReadOnlyMemory<byte> body)
    {
        var top = new ReceivedMessage(header.MsgId, header.SeqNo, header.Salt, header.SessionId, body, null);
        List<Action>? completions = null;
        lock (_gate)
        {
            if (_fault is not null) return;
            Handle(top, ref completions);
            if (_acks.Count >= _options.MaxPendingAcks) SendAcksLocked();
        }
        if (completions is not null) foreach (var c in completions) c();
        EnsureAckTimer();
    }

    private void Handle(ReceivedMessage message, ref List<Action>? completions)
    {
        Observe(message, ref completions);
        // Server msg_ids are odd; a message with an even id is not from a server: shown to observers, otherwise ignored.
        if ((message.MsgId & 1) == 0) return;
        if (message.IsContentRelated) _acks.Add(message.MsgId);
        Dispatch(message, message.Body, ref completions, depth: 0);
    }

    private void Observe(ReceivedMessage message, ref List<Action>? completions)
    {
        if (_options.HistorySize > 0)
        {
            if (_history.Count == _options.HistorySize) _history.Dequeue();
            _history.Enqueue(message);
        }
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            var w = _waiters[i];
            if (w.Predicate(message))
            {
                _waiters.RemoveAt(i);
                (completions ??= []).Add(() => w.Tcs.TrySetResult(message));
            }
        }
        if (MessageReceived is { } handler) (completions ??= []).Add(() => handler(message));
    }

    private void Dispatch(ReceivedMessage message, ReadOnlyMemory<byte> body, ref List<Action>? completions, int depth)
    {
        if (body.Length < 4) return;
        uint id = BinaryPrimitives.ReadUInt32LittleEndian(body.Span);
        switch (id)
        {
            case ConstructorIds.MsgContainer when message.ContainerMsgId is null && depth == 0:
                if (ClientMessages.TryReadContainer(body, out var items, out _))
                {
                    foreach (var item in items)
                    {
                        Handle(new ReceivedMessage(item.MsgId, item.SeqNo, message.Salt, message.SessionId, item.Body, message.MsgId), ref completions);
                    }
                }
                return;
            case ConstructorIds.GzipPacked when depth < 2:
                if (ClientMessages.TryUnpack(body, out var inflated, out _)) Dispatch(message, inflated, ref completions, depth + 1);
                return;
            case ConstructorIds.RpcResult:
                if (ClientMessages.TryReadRpcResult(body, out long reqMsgId, out var result, out var error))
                {
                    var response = new RpcResponse(reqMsgId, result, error, message);
                    Complete(reqMsgId, _ => true, new ReceivedAnswer(message, result, response), ref completions);
                }
                return;
        }
        if (!ServiceSchema.TryRead(body.Span, out var obj, out _)) return;
        var answer = new ReceivedAnswer(message, body, null) { Object = obj };
        switch (obj)
        {
            case Pong pong:
                Complete(pong.MsgId, p => p.Kind == AnswerKind.ByMsgId, answer, ref completions);
                break;
            case FutureSalts salts:
                Complete(salts.ReqMsgId, p => p.Kind == AnswerKind.ByMsgId, answer, ref completions);
                break;
            case MsgsStateInfo info:
                Complete(info.ReqMsgId, p => p.Kind == AnswerKind.ByMsgId, answer, ref completions);
                break;
            case DestroySessionOk ok:
                CompleteFirst(p => p.Kind == AnswerKind.DestroySession && p.Target == ok.SessionId, answer, ref completions);
                break;
            case DestroySessionNone none:
                CompleteFirst(p => p.Kind == AnswerKind.DestroySession && p.Target == none.SessionId, answer, ref completions);
                break;
            case DestroyAuthKeyOk or DestroyAuthKeyNone or DestroyAuthKeyFail:
                CompleteFirst(p => p.Kind == AnswerKind.DestroyAuthKey, answer, ref completions);
                break;
            case BadServerSalt bad:
                _salt = bad.NewServerSalt;
                Refused(bad.BadMsgId, bad.ErrorCode, resend: _options.AutoResend, ref completions);
                break;
            case BadMsgNotification bad:
                bool clock = bad.ErrorCode is 16 or 17;
                if (clock) _msgIds.SyncTo(message.MsgId);
                Refused(bad.BadMsgId, bad.ErrorCode, resend: clock && _options.AutoResend, ref completions);
                break;
            case NewSessionCreated created:
                LastNewSession = created;
                _salt = created.ServerSalt;
                if (_options.AutoResend)
                {
                    var lost = _pending.Values.Where(p => p.MsgId < created.FirstMsgId && p.ContainerId < created.FirstMsgId).ToArray();
                    foreach (var p in lost) Resend(p, ref completions);
                }
                break;
            case MsgDetailedInfo detailed when _pending.ContainsKey(detailed.MsgId):
                // The query was a duplicate and its answer was already sent: ask for that answer again.
                SendServiceLocked(new MsgResendReq([detailed.AnswerMsgId]).ToBytes());
                break;
        }
    }

    /// <summary>A refused message: re-send the calls it carried (by msg_id or container id), or fail them.</summary>
    private void Refused(long badMsgId, int code, bool resend, ref List<Action>? completions)
    {
        var hit = _pending.Values.Where(p => p.MsgId == badMsgId || p.ContainerId == badMsgId).ToArray();
        foreach (var p in hit)
        {
            if (resend) Resend(p, ref completions);
            else Fail(p, new BadMsgNotificationException(badMsgId, code), ref completions);
        }
    }

    private void Resend(Pending p, ref List<Action>? completions)
    {
        _pending.Remove(p.MsgId);
        if (++p.Resends > _options.MaxResends)
        {
            (completions ??= []).Add(() => p.SetException(new MtProtoClientException($"Message re-sent {_options.MaxResends} times and still refused.")));
            return;
        }
        Interlocked.Increment(ref _resends);
        SendLocked([p], forceContainer: false);
        _pending[p.MsgId] = p;
    }

    private void SendServiceLocked(byte[] body) =>
        Encrypt(new MessageHeader(_salt, SessionId, _msgIds.Next(), _seqNo.Next(false)), body, 0, false);

    private void Fail(Pending p, Exception error, ref List<Action>? completions)
    {
        _pending.Remove(p.MsgId);
        (completions ??= []).Add(() => p.SetException(error));
    }

    private void Complete(long msgId, Func<Pending, bool> accepts, ReceivedAnswer answer, ref List<Action>? completions)
    {
        if (_pending.TryGetValue(msgId, out var p) && accepts(p))
        {
            _pending.Remove(msgId);
            (completions ??= []).Add(() => p.SetResult(answer));
        }
    }

    private void CompleteFirst(Func<Pending, bool> accepts, ReceivedAnswer answer, ref List<Action>? completions)
    {
        Pending? first = null;
        foreach (var p in _pending.Values)
        {
            if (accepts(p) && (first is null || p.MsgId < first.MsgId)) first = p;
        }
        if (first is not null) Complete(first.MsgId, _ => true, answer, ref completions);
    }

    // ---------------------------------------------------------------- timers, failure, disposal

    private void EnsureTimer()
    {
        long now = Stopwatch.GetTimestamp();
        if (now < Volatile.Read(ref _nextSweep)) return;
        Volatile.Write(ref _nextSweep, now + Stopwatch.Frequency / 4);
        try
        {
            _timer.Change(TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void EnsureAckTimer()
    {
        lock (_gate)
        {
            if (_acks.Count == 0 || _ackTimerArmed || _fault is not null) return;
            _ackTimerArmed = true;
        }
        try
        {
            _timer.Change(_options.AckDelay, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void OnTimer()
    {
        List<Action>? completions = null;
        bool again;
        lock (_gate)
        {
            if (_fault is not null) return;
            _ackTimerArmed = false;
            try
            {
                SendAcksLocked();
            }
            catch (ConnectionClosedException)
            {
                // The connection closed before it failed this session (it does so from its own loop): the acks are moot,
                // and an exception here, on a timer thread, would take the whole process down.
            }
            long now = Stopwatch.GetTimestamp();
            foreach (var p in _pending.Values)
            {
                if (p.Deadline <= now)
                {
                    var limit = _options.CallTimeout;
                    (completions ??= []).Add(() => p.SetException(new TimeoutException($"No answer within {limit.TotalSeconds:0.###} s (msg_id {p.MsgId:x16}).")));
                }
            }
            if (completions is not null)
            {
                foreach (var p in _pending.Values.Where(p => p.Deadline <= now).ToArray()) _pending.Remove(p.MsgId);
            }
            again = _pending.Count > 0;
        }
        if (completions is not null) foreach (var c in completions) c();
        if (again)
        {
            try
            {
                _timer.Change(TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private void Abandon(Pending p, Exception reason)
    {
        lock (_gate) _pending.Remove(p.MsgId);
        p.SetException(reason);
    }

    /// <summary>Fails every pending call and wait (the connection failed or the session was disposed).</summary>
    internal void Fail(Exception reason)
    {
        Pending[] pending;
        Waiter[] waiters;
        lock (_gate)
        {
            if (_fault is not null) return;
            _fault = reason;
            pending = [.. _pending.Values];
            _pending.Clear();
            waiters = [.. _waiters];
            _waiters.Clear();
        }
        foreach (var p in pending) p.SetException(reason);
        foreach (var w in waiters) w.Tcs.TrySetException(reason);
    }

    private void ThrowIfFailed()
    {
        if (_fault is not null) throw _fault is MtProtoClientException or ObjectDisposedException ? _fault : new ConnectionClosedException(_fault.Message, _fault);
    }

    /// <summary>Sends pending acks, fails pending calls with <see cref="ObjectDisposedException"/> and leaves the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        FlushAcksSafe();
        Fail(new ObjectDisposedException(nameof(MtProtoSession), "The session was disposed."));
        _connection.Detach(this);
        await _timer.DisposeAsync().ConfigureAwait(false);
    }

    private void FlushAcksSafe()
    {
        try
        {
            FlushAcks();
        }
        catch (MtProtoClientException)
        {
        }
    }

    public override string ToString() => $"session {SessionId:x16} of auth key {AuthKey.Id:x16}";

    internal enum AnswerKind
    {
        RpcResult,
        ByMsgId,
        DestroySession,
        DestroyAuthKey,
    }

    private sealed class Pending(byte[] body, bool contentRelated, AnswerKind kind, long target, long deadline)
    {
        public byte[] Body { get; } = body;
        public bool ContentRelated { get; } = contentRelated;
        public AnswerKind Kind { get; } = kind;
        public long Target { get; } = target;
        public long Deadline { get; } = deadline;
        public long MsgId { get; set; }
        public int SeqNo { get; set; }
        public long ContainerId { get; set; }
        public int Resends { get; set; }
        public TaskCompletionSource<ReceivedAnswer> Tcs { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The cancellation token's registration (<see cref="Watch"/>); none when the call cannot be cancelled.</summary>
        public CancellationTokenRegistration Cancellation { get; set; }

        /// <summary>Completes the call (first completion wins) and drops its cancellation registration.</summary>
        public void SetResult(ReceivedAnswer answer)
        {
            Tcs.TrySetResult(answer);
            Cancellation.Unregister();
        }

        /// <summary>Fails the call (first completion wins) and drops its cancellation registration.</summary>
        public void SetException(Exception error)
        {
            Tcs.TrySetException(error);
            Cancellation.Unregister();
        }
    }

    private sealed class Waiter(Func<ReceivedMessage, bool> predicate)
    {
        public Func<ReceivedMessage, bool> Predicate { get; } = predicate;
        public TaskCompletionSource<ReceivedMessage> Tcs { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The answer to a call: the message that carried it and the answer object.</summary>
/// <param name="Message">The received message (an rpc_result, or the bare answer).</param>
/// <param name="Body">The answer object's bytes (the result inside rpc_result, inflated; else the message body).</param>
/// <param name="Response">For answers inside rpc_result: the parsed response.</param>
public sealed record ReceivedAnswer(ReceivedMessage Message, ReadOnlyMemory<byte> Body, RpcResponse? Response)
{
    /// <summary>The answer parsed as a service-schema object (null when it is not one).</summary>
    public TlObject? Object { get; init; } = Response is null ? null : (ServiceSchema.TryRead(Body.Span, out var o, out _) ? o : null);

    public uint ConstructorId => Body.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Body.Span) : 0;

    /// <summary>True when the answer came inside rpc_result rather than as a bare message.</summary>
    public bool ViaRpcResult => Response is not null;
}
