using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using MtActors.Grains;
using MtActors.Grains.Observability;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Transport;

namespace MtActors.Silo.Gateway;

/// <summary>
/// One MTProto TCP connection. Two loops: the reader parses transport frames, runs the key exchange (auth_key_id 0),
/// looks the auth key up (once per key and connection), decrypts, answers quick-ack requests at once and queues the
/// frame (bounded by <see cref="MtProtoGatewayOptions.MaxPendingFrames"/>); the processor puts each frame in its
/// session's lane. A lane hands its frames, in order, to the session grain and encrypts what comes back: a single frame
/// through <see cref="ISessionGrain.ProcessFrame"/>, the frames queued meanwhile together through
/// <see cref="ISessionGrain.ProcessFrames"/> (the same rules, one grain call); the answers to one call go out with one
/// socket flush. Lanes of different sessions run independently: a slow call in one session never holds up another
/// session on the same connection (MTProto orders nothing across sessions). One timer closes the connection on the
/// first-frame / key-exchange timeout, the idle timeout and the ping_delay_disconnect delay. Anything unexpected closes
/// this connection only, with a log line.
/// </summary>
internal sealed class MtProtoConnection
{
    private const int MaxCachedKeys = 8;
    private const int MaxCachedSessions = 64;

    private readonly ConnectionContext _context;
    private readonly MtProtoGateway _gateway;
    private readonly ServerTransport _codec;
    private readonly CancellationTokenSource _closing;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Channel<PendingFrame> _pending;
    private readonly Dictionary<long, KeyEntry> _keys = [];
    private int _refusedKey; // 1 once -404 was sent for an unknown or destroyed key
    private readonly Dictionary<(long AuthKeyId, long SessionId), SessionLane> _lanes = []; // processor-owned
    private readonly List<Task> _laneTasks = []; // processor-owned: drains started (completed ones pruned)
    private readonly SemaphoreSlim _laneSlots; // frames taken from _pending and not yet answered
    private readonly ITimer _timer;
    private readonly Lock _stateLock = new();
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _handshakeTimeout;
    private readonly long _openedAtTicks;

    // Reader-owned.
    private ServerHandshake? _handshake;
    private bool _holdsHandshakeSlot;
    private string _transportName = "undetected";

    // Under _stateLock.
    private long _lastReceivedTicks;
    private long? _handshakeDeadlineTicks;
    private long? _disconnectDeadlineTicks;
    private int _disconnectDelaySeconds;
    private string? _closeReason;
    private bool _finished;

    // Under _writeLock.
    private long _lastPlainMsgId;
    private bool _outputDone;

    private long _framesIn;
    private long _framesOut;

    public MtProtoConnection(ConnectionContext context, MtProtoGateway gateway)
    {
        _context = context;
        _gateway = gateway;
        Id = gateway.NextConnectionId();
        var options = gateway.Options;
        _idleTimeout = TimeSpan.FromSeconds(options.IdleTimeoutSeconds);
        _handshakeTimeout = TimeSpan.FromSeconds(options.HandshakeTimeoutSeconds);
        _codec = new ServerTransport(gateway.TransportOptions);
        _closing = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed);
        _pending = Channel.CreateBounded<PendingFrame>(new BoundedChannelOptions(options.MaxPendingFrames)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _laneSlots = new SemaphoreSlim(options.MaxPendingFrames, options.MaxPendingFrames);
        _openedAtTicks = Now;
        _lastReceivedTicks = _openedAtTicks;
        _handshakeDeadlineTicks = _openedAtTicks + _handshakeTimeout.Ticks; // the first frame must come in time
        _timer = gateway.Time.CreateTimer(static s => ((MtProtoConnection)s!).OnTimer(), this,
            Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The connection id handed to the session grains (unique in the cluster).</summary>
    public long Id { get; }

    private long Now => _gateway.Time.GetUtcNow().UtcTicks;

    public async Task RunAsync()
    {
        _gateway.Register(this);
        _gateway.Logger.ConnectionOpened(Id, _context.RemoteEndPoint);
        var processor = Task.CompletedTask;
        try
        {
            lock (_stateLock)
            {
                RescheduleLocked(Now);
            }

            processor = ProcessLoopAsync();
            await ReadLoopAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _gateway.Logger.ConnectionFailed(ex, Id);
            Close("unexpected error");
        }
        finally
        {
            _pending.Writer.TryComplete();
            await processor;
            await FinishAsync();
        }
    }

    /// <summary>Stops the connection: pending work is dropped, the socket is closed after what was already written.</summary>
    public void Close(string reason)
    {
        lock (_stateLock)
        {
            if (_finished || _closeReason is not null && _closing.IsCancellationRequested)
            {
                return;
            }

            _closeReason ??= reason;
        }

        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // finished meanwhile
        }
    }

    /// <summary>Last resort at shutdown: drops the socket.</summary>
    public void Abort() => _context.Abort(new ConnectionAbortedException("The silo is stopping."));

    private void SetReason(string reason)
    {
        lock (_stateLock)
        {
            _closeReason ??= reason;
        }
    }

    // ------------------------------------------------------------------ reader

    private async Task ReadLoopAsync()
    {
        var input = _context.Transport.Input;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(_closing.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (IsConnectionGone(ex))
            {
                SetReason("connection reset");
                return;
            }

            var buffer = result.Buffer;
            try
            {
                while (!_closing.IsCancellationRequested && _codec.TryReadFrame(ref buffer, out var frame))
                {
                    if (frame.Kind == TransportFrameKind.Error)
                    {
                        _gateway.Logger.TransportRefused(Id, frame.Error.ToString());
                        Close("transport error " + frame.Error);
                        return;
                    }

                    if (frame.Kind == TransportFrameKind.Payload && !await HandleFrameAsync(frame.Payload, frame.QuickAckRequested))
                    {
                        return;
                    }
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                SetReason("closed by the client");
                return;
            }
        }
    }

    /// <summary>One transport payload. False: stop reading (the connection is closing).</summary>
    private async ValueTask<bool> HandleFrameAsync(ReadOnlySequence<byte> payload, bool quickAckRequested)
    {
        if (Interlocked.Increment(ref _framesIn) == 1)
        {
            _transportName = (_codec.IsObfuscated ? "obfuscated-" : "") + _codec.Kind switch
            {
                TransportKind.Abridged => "abridged",
                TransportKind.Intermediate => "intermediate",
                TransportKind.PaddedIntermediate => "padded",
                _ => "full",
            };
        }

        MtActorsMetrics.FrameReceived(_transportName);
        var length = (int)payload.Length;
        lock (_stateLock)
        {
            _lastReceivedTicks = Now;
            if (_framesIn == 1 && !_holdsHandshakeSlot)
            {
                _handshakeDeadlineTicks = null; // the first frame came in time
            }
        }

        if (length < 8)
        {
            Close("frame shorter than an auth_key_id");
            return false;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payload.CopyTo(buffer);
            var authKeyId = BinaryPrimitives.ReadInt64LittleEndian(buffer);
            return authKeyId == 0
                ? await HandlePlainAsync(buffer, length)
                : await HandleEncryptedAsync(authKeyId, buffer, length, quickAckRequested);
        }
        finally
        {
            buffer.AsSpan(0, length).Clear();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // ------------------------------------------------------------------ key exchange

    private async ValueTask<bool> HandlePlainAsync(byte[] buffer, int length)
    {
        if (!_holdsHandshakeSlot)
        {
            if (!_gateway.TryEnterHandshake())
            {
                _gateway.Logger.LimitReached(Id, "key exchange", _gateway.Options.MaxHandshakesInFlight);
                MtActorsMetrics.HandshakeFailed("limit");
                await WriteTransportErrorAsync(TransportErrorCodes.Flood);
                Close("key exchange limit");
                return false;
            }

            _holdsHandshakeSlot = true;
            lock (_stateLock)
            {
                var now = Now;
                _handshakeDeadlineTicks = now + _handshakeTimeout.Ticks;
                RescheduleLocked(now);
            }
        }

        var outcome = Handshake(buffer.AsSpan(0, length));
        switch (outcome)
        {
            case HandshakeOutcome.Reply reply:
                if (reply.Body.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(reply.Body) == HandshakeIds.DhGenRetry)
                {
                    _gateway.Logger.ShortKeyRetry(Id);
                }

                var written = await WritePlainAsync(reply.Body);
                ReleaseHandshakeSlotIfDone();
                return written;

            case HandshakeOutcome.Fail fail:
                MtActorsMetrics.HandshakeFailed(ReasonTag(fail.Error));
                _gateway.Logger.HandshakeRefused(Id, fail.TransportError, fail.Error.ToString());
                await WriteTransportErrorAsync(fail.TransportError);
                Close("key exchange refused: " + fail.Error);
                return false;

            case HandshakeOutcome.KeyReady ready:
                return await StoreKeyAsync(ready.Key);

            default:
                throw new InvalidOperationException("Unknown handshake outcome " + outcome);
        }
    }

    private HandshakeOutcome Handshake(ReadOnlySpan<byte> frame)
    {
        var error = UnencryptedMessage.TryRead(frame, out _, out var body);
        if (error != HandshakeError.None)
        {
            return new HandshakeOutcome.Fail(TransportErrorCodes.AuthKeyNotFound, error);
        }

        _handshake ??= _gateway.NewHandshake();
        return _handshake.Handle(body);
    }

    /// <summary>Registers the agreed key in its AuthKeyGrain: dh_gen_ok when stored, dh_gen_retry when the id is taken.</summary>
    private async ValueTask<bool> StoreKeyAsync(NewAuthKey key)
    {
        var handshake = _handshake!;
        AuthKeyRegisterResult result;
        try
        {
            var registration = new AuthKeyRegistration(
                (byte[])key.Key.Clone(),
                key.IsTemporary ? AuthKeyKind.Temporary : AuthKeyKind.Permanent,
                key.ExpiresAt,
                key.InitialSalt);
            result = await _gateway.Grains.GetAuthKeyGrain(key.AuthKeyId).Register(registration);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            handshake.RejectKey();
            key.Wipe();
            _gateway.Logger.ConnectionFailed(ex, Id);
            Close("auth key registration failed");
            return false;
        }

        byte[] answer;
        switch (result)
        {
            case AuthKeyRegisterResult.Registered or AuthKeyRegisterResult.AlreadyRegistered:
                answer = handshake.AcceptKey();
                CacheKey(key.AuthKeyId, new KeyEntry(key.ToAuthKey(), key.ExpiresAt));
                MtActorsMetrics.HandshakeCompleted(key.IsTemporary);
                _gateway.Logger.KeyCreated(Id, key.AuthKeyId, key.IsTemporary ? "temporary" : "permanent", key.ExpiresAt);
                break;

            case AuthKeyRegisterResult.Conflict:
                answer = handshake.RejectKey();
                if (BinaryPrimitives.ReadUInt32LittleEndian(answer) == HandshakeIds.DhGenFail)
                {
                    MtActorsMetrics.HandshakeFailed("dh_gen_fail");
                }

                _gateway.Logger.KeyRejected(Id, key.AuthKeyId, result.ToString(),
                    BinaryPrimitives.ReadUInt32LittleEndian(answer) == HandshakeIds.DhGenRetry ? "dh_gen_retry" : "dh_gen_fail");
                break;

            default:
                handshake.RejectKey();
                key.Wipe();
                _gateway.Logger.HandshakeRefused(Id, TransportErrorCodes.AuthKeyNotFound, "registration " + result);
                MtActorsMetrics.HandshakeFailed("registration");
                await WriteTransportErrorAsync(TransportErrorCodes.AuthKeyNotFound);
                Close("auth key registration refused");
                return false;
        }

        key.Wipe();
        var written = await WritePlainAsync(answer);
        ReleaseHandshakeSlotIfDone();
        return written;
    }

    private void ReleaseHandshakeSlotIfDone()
    {
        if (!_holdsHandshakeSlot || _handshake is { InProgress: true })
        {
            return;
        }

        _holdsHandshakeSlot = false;
        _gateway.ExitHandshake();
        lock (_stateLock)
        {
            _handshakeDeadlineTicks = null;
        }
    }

    // ------------------------------------------------------------------ encrypted frames

    private async ValueTask<bool> HandleEncryptedAsync(long authKeyId, byte[] buffer, int length, bool quickAckRequested)
    {
        if (!_keys.TryGetValue(authKeyId, out var entry))
        {
            AuthKeyInfo? info;
            try
            {
                info = await _gateway.Grains.GetAuthKeyGrain(authKeyId).Get();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _gateway.Logger.ConnectionFailed(ex, Id);
                Close("auth key lookup failed");
                return false;
            }

            if (info is null)
            {
                return await RefuseUnknownKeyAsync(authKeyId);
            }

            entry = new KeyEntry(new AuthKey(info.Key), info.ExpiresAt);
            CacheKey(authKeyId, entry);
        }

        if (entry.Destroyed || entry.ExpiresAtTicks <= Now)
        {
            return await RefuseUnknownKeyAsync(authKeyId);
        }

        if (!TryDecrypt(entry, buffer.AsSpan(0, length), out var frame, out var token, out var error))
        {
            _gateway.Logger.DecryptFailed(Id, authKeyId, error.ToString());
            return true; // dropped silently (spec §1.6: no answer to a message that does not decrypt)
        }

        if (quickAckRequested && _codec.SupportsQuickAck && !await WriteQuickAckAsync(token))
        {
            return false;
        }

        try
        {
            await _pending.Writer.WriteAsync(frame, _closing.Token);
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            return false;
        }
    }

    private bool TryDecrypt(KeyEntry entry, Span<byte> frame, out PendingFrame pending, out uint quickAckToken,
        out MessageDecryptError error)
    {
        error = MessageCipher.DecryptInPlace(entry.Key, MessageSender.Client, frame, out var message);
        if (error != MessageDecryptError.None)
        {
            pending = default;
            quickAckToken = 0;
            return false;
        }

        quickAckToken = message.QuickAckToken;
        pending = new PendingFrame(entry, message.SessionId,
            new IncomingFrame(message.Salt, message.MsgId, message.SeqNo, message.Body.ToArray(), Id));
        return true;
    }

    private async ValueTask<bool> RefuseUnknownKeyAsync(long authKeyId)
    {
        // Once per connection: two sessions of a destroyed key may find out at the same time.
        if (Interlocked.Exchange(ref _refusedKey, 1) == 0)
        {
            _gateway.Logger.AuthKeyUnknown(Id, authKeyId);
            await WriteTransportErrorAsync(TransportErrorCodes.AuthKeyNotFound);
        }

        Close("unknown auth key");
        return false;
    }

    private void CacheKey(long authKeyId, KeyEntry entry)
    {
        if (_keys.Count >= MaxCachedKeys)
        {
            _keys.Clear();
        }

        _keys[authKeyId] = entry;
    }

    // ------------------------------------------------------------------ processor

    private async Task ProcessLoopAsync()
    {
        var reader = _pending.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_closing.Token))
            {
                // At most MaxPendingFrames frames in the lanes: past that, wait for answers (and the reader for room).
                await _laneSlots.WaitAsync(_closing.Token);
                if (!reader.TryRead(out var pending))
                {
                    _laneSlots.Release();
                    continue;
                }

                Dispatch(pending);
            }
        }
        catch (OperationCanceledException)
        {
            // closing
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _gateway.Logger.ConnectionFailed(ex, Id);
            Close("unexpected error");
        }
        finally
        {
            // Calls already made finish (their answers are dropped if the connection is gone) before the socket closes.
            await Task.WhenAll(_laneTasks);
        }
    }

    /// <summary>Queues a frame in its session's lane and starts the lane if it is idle (processor only).</summary>
    private void Dispatch(PendingFrame pending)
    {
        var id = (pending.Key.Key.Id, pending.SessionId);
        if (!_lanes.TryGetValue(id, out var lane))
        {
            if (_lanes.Count >= MaxCachedSessions)
            {
                foreach (var (idleId, idle) in _lanes.ToList())
                {
                    lock (idle)
                    {
                        if (!idle.Running)
                        {
                            _lanes.Remove(idleId);
                        }
                    }
                }
            }

            lane = new SessionLane(_gateway.Grains.GetSessionGrain(id.Item1, id.Item2));
            _lanes[id] = lane;
        }

        lock (lane)
        {
            lane.Queue.Add(pending);
            if (lane.Running)
            {
                return;
            }

            lane.Running = true;
        }

        if (_laneTasks.Count >= 64)
        {
            _laneTasks.RemoveAll(t => t.IsCompleted);
        }

        _laneTasks.Add(DrainAsync(lane));
    }

    /// <summary>Hands a lane's frames to its grain, in order, all queued frames per call, until the lane is empty.</summary>
    private async Task DrainAsync(SessionLane lane)
    {
        while (true)
        {
            List<PendingFrame> run;
            lock (lane)
            {
                if (lane.Queue.Count == 0)
                {
                    lane.Running = false;
                    return;
                }

                // Take the queued frames; the lane fills the other (empty) list meanwhile. Both lists live with the
                // lane, so a drain, which starts for nearly every frame at one request in flight, allocates none.
                run = lane.Queue;
                (lane.Queue, lane.Spare) = (lane.Spare, run);
            }

            bool ok;
            try
            {
                ok = await ProcessRunAsync(lane.Grain, run);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _gateway.Logger.ConnectionFailed(ex, Id);
                Close("unexpected error");
                ok = false;
            }
            finally
            {
                _laneSlots.Release(run.Count);
                run.Clear();
            }

            if (!ok)
            {
                // The connection is closing: what is still queued here is dropped.
                lock (lane)
                {
                    if (lane.Queue.Count > 0)
                    {
                        _laneSlots.Release(lane.Queue.Count);
                        lane.Queue.Clear();
                    }

                    lane.Running = false;
                }

                return;
            }
        }
    }

    /// <summary>Frames of one key and session, in order: one grain call for a single frame or for all of them.</summary>
    /// <remarks>It always waits for the grain, so its state machine is pooled (awaited once, by DrainAsync).</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ProcessRunAsync(ISessionGrain grain, List<PendingFrame> batch)
    {
        var key = batch[0].Key;
        var sessionId = batch[0].SessionId;
        int start = 0, end = batch.Count;
        while (start < end)
        {
            if (key.Destroyed)
            {
                return await RefuseUnknownKeyAsync(key.Key.Id);
            }

            ImmutableArray<FrameResult> results;
            string? error = null;
            try
            {
                if (end - start == 1)
                {
                    results = [await grain.ProcessFrame(batch[start].Frame)];
                }
                else
                {
                    var frames = ImmutableArray.CreateBuilder<IncomingFrame>(end - start);
                    for (int i = start; i < end; i++)
                    {
                        frames.Add(batch[i].Frame);
                    }

                    var answer = await grain.ProcessFrames(frames.MoveToImmutable());
                    (results, error) = (answer.Results, answer.Error);
                    if (results.IsDefaultOrEmpty && error is null)
                    {
                        throw new InvalidOperationException("The session answered no frame.");
                    }
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _gateway.Logger.ConnectionFailed(ex, Id);
                Close("session grain call failed");
                return false;
            }

            if (!await HandleResultsAsync(key, sessionId, results))
            {
                return false;
            }

            if (error is not null)
            {
                _gateway.Logger.ConnectionFailed(new InvalidOperationException(error), Id);
                Close("session grain call failed");
                return false;
            }

            start += results.Length;
        }

        return true;
    }

    /// <summary>Sends the answers of consecutive frames (one socket flush) and applies their dispositions in order.</summary>
    private async ValueTask<bool> HandleResultsAsync(KeyEntry key, long sessionId, ImmutableArray<FrameResult> results)
    {
        int sendable = 0;
        while (sendable < results.Length && results[sendable].Disposition is FrameDisposition.Continue or FrameDisposition.CloseAfterSend)
        {
            sendable++;
            if (results[sendable - 1].Disposition == FrameDisposition.CloseAfterSend)
            {
                break;
            }
        }

        if (!await WriteEncryptedAsync(key.Key, sessionId, results, sendable))
        {
            return false;
        }

        for (int i = 0; i < sendable; i++)
        {
            if (results[i].DisconnectDelaySeconds > 0)
            {
                ArmDisconnect(results[i].DisconnectDelaySeconds);
            }
        }

        if (sendable > 0 && results[sendable - 1].Disposition == FrameDisposition.CloseAfterSend)
        {
            key.Destroyed = true; // any later frame of this key gets -404
            _gateway.Logger.KeyDestroyed(Id, key.Key.Id);
            Close("auth key destroyed");
            return false;
        }

        if (sendable < results.Length)
        {
            switch (results[sendable].Disposition)
            {
                case FrameDisposition.AuthKeyUnknown:
                    key.Destroyed = true;
                    return await RefuseUnknownKeyAsync(key.Key.Id);
                default:
                    throw new InvalidOperationException($"Unknown frame disposition {results[sendable].Disposition}.");
            }
        }

        return true;
    }

    // ------------------------------------------------------------------ writing

    private async ValueTask<bool> WritePlainAsync(byte[] body)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputDone)
            {
                return false;
            }

            _lastPlainMsgId = MsgIds.NextServer(_lastPlainMsgId, _gateway.Time.GetUtcNow(), isResponse: true);
            WritePlainFrame(_context.Transport.Output, _lastPlainMsgId, body);
            return await FlushLockedAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WritePlainFrame(PipeWriter output, long msgId, byte[] body)
    {
        var length = UnencryptedMessage.GetLength(body.Length);
        var span = output.GetSpan(_codec.GetMaxFrameLength(length));
        UnencryptedMessage.Write(span[_codec.GetPayloadOffset(length)..], msgId, body);
        output.Advance(_codec.CompleteFrame(span, length));
    }

    /// <summary>Encrypts every message of results [0, count), each as one frame, and flushes once.</summary>
    private async ValueTask<bool> WriteEncryptedAsync(AuthKey key, long sessionId, ImmutableArray<FrameResult> results, int count)
    {
        int frames = 0;
        for (int i = 0; i < count; i++)
        {
            frames += results[i].Messages.IsDefault ? 0 : results[i].Messages.Length;
        }

        if (frames == 0)
        {
            return true;
        }

        await _writeLock.WaitAsync();
        try
        {
            if (_outputDone)
            {
                return false;
            }

            var output = _context.Transport.Output;
            for (int i = 0; i < count; i++)
            {
                var result = results[i];
                if (result.Messages.IsDefault)
                {
                    continue;
                }

                foreach (var message in result.Messages)
                {
                    WriteEncryptedFrame(output, key, new MessageHeader(result.Salt, sessionId, message.MsgId, message.SeqNo), message.Body);
                }
            }

            return await FlushLockedAsync(frames);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WriteEncryptedFrame(PipeWriter output, AuthKey key, MessageHeader header, byte[] body)
    {
        var length = MessageCipher.GetEncryptedLength(body.Length);
        var span = output.GetSpan(_codec.GetMaxFrameLength(length));
        MessageCipher.Encrypt(key, MessageSender.Server, header, body, span[_codec.GetPayloadOffset(length)..]);
        output.Advance(_codec.CompleteFrame(span, length));
    }

    private async ValueTask<bool> WriteQuickAckAsync(uint token)
    {
        await _writeLock.WaitAsync();
        try
        {
            return !_outputDone && _codec.TryWriteQuickAck(token, _context.Transport.Output) && await FlushLockedAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask<bool> WriteTransportErrorAsync(int code)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputDone || !_codec.IsDetected)
            {
                return false;
            }

            _codec.WriteTransportError(code, _context.Transport.Output);
            return await FlushLockedAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask<bool> FlushLockedAsync(int frames = 1)
    {
        try
        {
            var result = await _context.Transport.Output.FlushAsync(_closing.Token);
            if (result.IsCompleted || result.IsCanceled)
            {
                _outputDone = true;
                Close("the client stopped reading");
                return false;
            }

            Interlocked.Add(ref _framesOut, frames);
            MtActorsMetrics.FrameSent(_transportName, frames);

            return true;
        }
        catch (OperationCanceledException)
        {
            _outputDone = true;
            return false;
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            _outputDone = true;
            Close("connection reset");
            return false;
        }
    }

    // ------------------------------------------------------------------ timers

    private void ArmDisconnect(int seconds)
    {
        lock (_stateLock)
        {
            var now = Now;
            _disconnectDelaySeconds = seconds;
            _disconnectDeadlineTicks = now + TimeSpan.FromSeconds(seconds).Ticks;
            RescheduleLocked(now);
        }
    }

    private void OnTimer()
    {
        string what;
        double seconds;
        lock (_stateLock)
        {
            if (_finished)
            {
                return;
            }

            var now = Now;
            if (_disconnectDeadlineTicks is { } disconnect && now >= disconnect)
            {
                what = "ping_delay_disconnect";
                seconds = _disconnectDelaySeconds;
            }
            else if (_handshakeDeadlineTicks is { } handshake && now >= handshake)
            {
                what = Interlocked.Read(ref _framesIn) == 0 ? "first frame" : "key exchange";
                seconds = _handshakeTimeout.TotalSeconds;
            }
            else if (now >= _lastReceivedTicks + _idleTimeout.Ticks)
            {
                what = "idle";
                seconds = _idleTimeout.TotalSeconds;
            }
            else
            {
                RescheduleLocked(now);
                return;
            }
        }

        if (what == "key exchange")
        {
            MtActorsMetrics.HandshakeFailed("timeout");
        }

        _gateway.Logger.TimedOut(Id, what, seconds);
        Close(what + " timeout");
    }

    private void RescheduleLocked(long now)
    {
        if (_finished)
        {
            return;
        }

        var next = _lastReceivedTicks + _idleTimeout.Ticks;
        if (_handshakeDeadlineTicks is { } handshake && handshake < next)
        {
            next = handshake;
        }

        if (_disconnectDeadlineTicks is { } disconnect && disconnect < next)
        {
            next = disconnect;
        }

        var due = TimeSpan.FromTicks(Math.Max(0, next - now));
        _timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    // ------------------------------------------------------------------ end

    private async Task FinishAsync()
    {
        string reason;
        lock (_stateLock)
        {
            _finished = true;
            reason = _closeReason ?? "closed";
        }

        await _timer.DisposeAsync();
        if (_holdsHandshakeSlot)
        {
            _holdsHandshakeSlot = false;
            _gateway.ExitHandshake();
        }

        await _writeLock.WaitAsync();
        try
        {
            _outputDone = true;
            await _context.Transport.Output.CompleteAsync();
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            // already gone
        }
        finally
        {
            _writeLock.Release();
        }

        try
        {
            await _context.Transport.Input.CompleteAsync();
        }
        catch (Exception ex) when (IsConnectionGone(ex))
        {
            // already gone
        }

        _codec.Dispose();
        _gateway.Unregister(this);
        var seconds = TimeSpan.FromTicks(Now - _openedAtTicks).TotalSeconds;
        _gateway.Logger.ConnectionClosed(Id, _transportName, reason, Interlocked.Read(ref _framesIn),
            Interlocked.Read(ref _framesOut), seconds);
        _closing.Dispose();
    }

    /// <summary>The metrics tag of a refused key exchange: the error's name in snake_case (a fixed set).</summary>
    private static string ReasonTag(HandshakeError error)
    {
        var name = error.ToString();
        var tag = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                tag.Append('_');
            }

            tag.Append(char.ToLowerInvariant(name[i]));
        }

        return tag.ToString();
    }

    private static bool IsConnectionGone(Exception ex) =>
        ex is IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException
            or ObjectDisposedException;

    private readonly record struct PendingFrame(KeyEntry Key, long SessionId, IncomingFrame Frame);

    /// <summary>One session's frames on this connection: queued in order, drained by one task at a time.</summary>
    private sealed class SessionLane(ISessionGrain grain)
    {
        public ISessionGrain Grain { get; } = grain;

        public List<PendingFrame> Queue = []; // under lock (this); swapped with Spare when a drain takes the frames

        public List<PendingFrame> Spare = []; // the list a drain is working through (empty again when it is done)

        public bool Running; // under lock (this): a drain task owns the lane
    }

    private sealed class KeyEntry(AuthKey key, DateTimeOffset? expiresAt)
    {
        public AuthKey Key { get; } = key;

        public long ExpiresAtTicks { get; } = expiresAt?.UtcTicks ?? long.MaxValue;

        public volatile bool Destroyed;
    }
}
