using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MtActors.Grains.Sessions;
using Orleans.Storage;

namespace MtActors.Grains;

/// <summary>
/// One MTProto session. State: <see cref="SessionState"/> under state name "session". The session
/// logic lives in <see cref="SessionCore"/>; this class loads it, persists it (coalesced, and before
/// answering when the answer depends on it) and talks to the auth key grain.
/// <see cref="Destroy"/> may interleave with the other calls (destroy_session between two sessions
/// calling each other must not deadlock), so every call that touches state holds <see cref="_gate"/>.
/// </summary>
public sealed partial class SessionGrain : Grain, ISessionGrain
{
    private readonly IPersistentState<SessionState> _state;
    private readonly TimeProvider _clock;
    private readonly SessionOptions _options;
    private readonly ILogger<SessionGrain> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CoalescingWriter _writer;
    private readonly long _authKeyId;
    private readonly long _sessionId;
    private SessionCore _core = null!;
    private AuthKeySessionBinding? _binding;
    private bool _fenced;

    public SessionGrain(
        [PersistentState(GrainServices.SessionStateName, GrainServices.SessionStorage)] IPersistentState<SessionState> state,
        [FromKeyedServices(GrainServices.ClockKey)] TimeProvider clock,
        IOptions<SessionOptions> options,
        ILogger<SessionGrain> logger)
    {
        _state = state;
        _clock = clock;
        _options = options.Value;
        _logger = logger;
        (_authKeyId, _sessionId) = SessionKeys.FromGuid(this.GetPrimaryKey());
        _writer = new CoalescingWriter(WriteOnceAsync, OnWriteFailed);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _core = _state.RecordExists ? SessionCore.Load(_state.State, _options) : SessionCore.Empty(_options);
        GrainMetrics.SessionActivated();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await _writer.IdleAsync();
            if (_fenced || !_core.Exists) return;
            // Clean end: write the exact window and counters, releasing the reservations.
            SessionState final = _core.Snapshot(final: true);
            _state.State = final;
            await GrainMetrics.TimeWriteAsync("final", () => _state.WriteStateAsync(cancellationToken));
            _core.Persisted(final);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The reservations in the last written row still cover everything: nothing is lost.
            LogFinalWriteFailed(ex, _authKeyId, _sessionId);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<FrameResult> ProcessFrame(IncomingFrame frame)
    {
        // First cut (contract landing): salt, msg_id checks, new_session_created, ping / ping_delay_disconnect,
        // msgs_ack; any other body gets rpc_error 400. The complete session layer replaces this.
        var messages = new List<(long MsgId, int SeqNo, byte[] Body)> { (frame.MsgId, frame.SeqNo, frame.Body) };
        var reader = new Protocol.Tl.TlReader(frame.Body);
        if (Protocol.Schema.MsgContainer.TryReadHeader(ref reader, out int count))
        {
            for (int i = 0; i < count && Protocol.Schema.MsgContainer.TryReadItem(ref reader, out var item); i++)
            {
                messages.Add((item.MsgId, item.SeqNo, item.Body.ToArray()));
            }
        }
        ReceiveResult received = await Receive(new ReceiveRequest(frame.Salt, [.. messages.Select(m => new InboundMessage(m.MsgId, m.SeqNo))]));
        if (received.Status == ReceiveStatus.AuthKeyUnknown) return FrameResult.KeyUnknown;
        var bodies = new List<(byte[] Body, OutboundKind Kind, OutboundHeader? Header)>();
        foreach (SessionNotice n in received.Notices)
        {
            Protocol.Schema.TlObject notice = n.Kind switch
            {
                SessionNoticeKind.NewSessionCreated => new Protocol.Schema.NewSessionCreated(n.RefMsgId, n.UniqueId, n.ServerSalt),
                SessionNoticeKind.BadServerSalt => new Protocol.Schema.BadServerSalt(n.RefMsgId, n.RefSeqNo, 48, n.ServerSalt),
                _ => new Protocol.Schema.BadMsgNotification(n.RefMsgId, n.RefSeqNo, n.Code),
            };
            bodies.Add((notice.ToBytes(), default, n.Header));
        }
        int delay = 0;
        for (int i = 0; i < received.Messages.Length; i++)
        {
            if (received.Messages[i].Verdict != MessageVerdict.Accepted) continue;
            var (msgId, _, body) = messages[i];
            if (body.Length < 4) continue;
            uint id = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(body);
            if (id is Protocol.Schema.ConstructorIds.MsgContainer or Protocol.Schema.ConstructorIds.MsgsAck) continue;
            Protocol.Schema.ServiceSchema.TryRead(body, out var obj, out _);
            switch (obj)
            {
                case Protocol.Schema.Ping ping:
                    bodies.Add((new Protocol.Schema.Pong(msgId, ping.PingId).ToBytes(), OutboundKind.Response, null));
                    break;
                case Protocol.Schema.PingDelayDisconnect pdd:
                    bodies.Add((new Protocol.Schema.Pong(msgId, pdd.PingId).ToBytes(), OutboundKind.Response, null));
                    delay = Math.Max(1, pdd.DisconnectDelay);
                    break;
                default:
                    using (var w = new Protocol.Tl.TlWriter())
                    {
                        Protocol.Schema.RpcResult.WriteHeader(w, msgId);
                        new Protocol.Schema.RpcError(400, "METHOD_INVALID").WriteTo(w);
                        bodies.Add((w.ToArray(), OutboundKind.Response | OutboundKind.ContentRelated, null));
                    }
                    break;
            }
        }
        ImmutableArray<OutboundHeader> headers = await AllocateOutbound([.. bodies.Where(b => b.Header is null).Select(b => b.Kind)]);
        var outgoing = ImmutableArray.CreateBuilder<OutgoingMessage>();
        int next = 0;
        foreach (var b in bodies)
        {
            OutboundHeader h = b.Header ?? headers[next++];
            outgoing.Add(new OutgoingMessage(h.MsgId, h.SeqNo, b.Body));
        }
        return new FrameResult(FrameDisposition.Continue, received.ServerSalt, outgoing.ToImmutable(), delay);
    }

    public async Task<ReceiveResult> Receive(ReceiveRequest request)
    {
        await _gate.WaitAsync();
        try
        {
            ThrowIfFenced();
            AuthKeySessionBinding? binding = await BindAsync();
            if (binding is null)
            {
                return new ReceiveResult(ReceiveStatus.AuthKeyUnknown, 0, false, [], []);
            }
            bool existed = _core.Exists;
            ReceiveResult result = _core.Receive(request.Salt, request.Messages.IsDefault ? [] : request.Messages, binding, _clock.GetUtcNow());
            if (result.Created)
            {
                // The key must list the session before the session exists (destroy_auth_key finds it).
                if (await GrainFactory.GetAuthKeyGrain(_authKeyId).OpenSession(_sessionId, create: true) is null)
                {
                    _core = SessionCore.Empty(_options);
                    _binding = null;
                    return new ReceiveResult(ReceiveStatus.AuthKeyUnknown, 0, false, [], []);
                }
                LogSessionCreated(_authKeyId, _sessionId, _core.UniqueId);
                GrainMetrics.SessionCreated();
            }
            await PersistAsync(existed || result.Created);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<ImmutableArray<OutboundHeader>> AllocateOutbound(ImmutableArray<OutboundKind> messages)
    {
        await _gate.WaitAsync();
        try
        {
            ThrowIfFenced();
            if (!_core.Exists || messages.IsDefaultOrEmpty) return [];
            DateTimeOffset now = _clock.GetUtcNow();
            var headers = ImmutableArray.CreateBuilder<OutboundHeader>(messages.Length);
            foreach (OutboundKind kind in messages) headers.Add(_core.Allocate(kind, now));
            await PersistAsync(true);
            return headers.MoveToImmutable();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<FutureSaltsResult> GetFutureSalts(int num)
    {
        await _gate.WaitAsync();
        try
        {
            AuthKeySessionBinding? binding = await BindAsync();
            DateTimeOffset now = _clock.GetUtcNow();
            return binding is null
                ? new FutureSaltsResult((int)now.ToUnixTimeSeconds(), [])
                : new FutureSaltsResult((int)now.ToUnixTimeSeconds(), SaltSchedule.Future(binding.SaltSeed, now, num));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<DestroySessionResult> DestroySession(long sessionId)
    {
        if (sessionId == _sessionId)
        {
            // The protocol leaves this undefined: keep the live session, answer none.
            LogDestroySelfRefused(_authKeyId, _sessionId);
            return new DestroySessionResult(sessionId, DestroySessionOutcome.None);
        }
        bool existed = await GrainFactory.GetSessionGrain(_authKeyId, sessionId).Destroy();
        GrainMetrics.DestroySession(existed);
        return new DestroySessionResult(sessionId, existed ? DestroySessionOutcome.Ok : DestroySessionOutcome.None);
    }

    public async Task<bool> Destroy()
    {
        bool existed;
        await _gate.WaitAsync();
        try
        {
            ThrowIfFenced();
            await _writer.IdleAsync();
            existed = _core.Exists;
            if (existed)
            {
                await GrainMetrics.TimeWriteAsync("delete", () => _state.ClearStateAsync()); // DeleteStateOnClear: the row is deleted
                LogSessionDestroyed(_authKeyId, _sessionId, _core.UniqueId);
                _core = SessionCore.Empty(_options);
                _binding = null;
                // Nothing of the session may stay in memory either. (Only when it existed: an activation
                // that deactivates on every "none" would bounce queued calls from activation to activation.)
                DeactivateOnIdle();
            }
        }
        finally
        {
            _gate.Release();
        }
        await GrainFactory.GetAuthKeyGrain(_authKeyId).SessionDestroyed(_sessionId);
        return existed;
    }

    public async Task<SessionInfo?> GetInfo()
    {
        await _gate.WaitAsync();
        try
        {
            if (!_core.Exists) return null;
            AuthKeySessionBinding? binding = await BindAsync();
            long salt = binding is null ? 0 : SaltSchedule.Current(binding.SaltSeed, _clock.GetUtcNow());
            return new SessionInfo(_authKeyId, _sessionId, _core.UniqueId, _core.CreatedAt, _core.LastActivityAt,
                _core.FirstMsgId, _core.LastClientMsgId, _core.LastServerMsgId, _core.ContentMessagesSent, salt);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The auth key's salt material, fetched once per activation; null when the key is gone.</summary>
    private async Task<AuthKeySessionBinding?> BindAsync()
    {
        if (_binding is not null)
        {
            if (_binding.ExpiresAt is not { } expiry || expiry > _clock.GetUtcNow()) return _binding;
            _binding = null;
        }
        _binding = await GrainFactory.GetAuthKeyGrain(_authKeyId).OpenSession(_sessionId, create: false);
        if (_binding is null && _core.Exists)
        {
            // The key was destroyed (or expired) while this session's row survived: finish the job.
            await _writer.IdleAsync();
            await _state.ClearStateAsync();
            _core = SessionCore.Empty(_options);
            LogOrphanRemoved(_authKeyId, _sessionId);
        }
        return _binding;
    }

    /// <summary>Durable now if the answer depends on it, else a coalesced background write.</summary>
    private async Task PersistAsync(bool changed)
    {
        if (!_core.Exists || !changed) return;
        if (_core.MustPersist) await GrainMetrics.TimeWriteAsync("awaited", _writer.FlushAsync);
        else _writer.Schedule();
    }

    private async Task WriteOnceAsync()
    {
        SessionState snapshot = _core.Snapshot(final: false);
        _state.State = snapshot;
        await GrainMetrics.TimeWriteAsync("write", () => _state.WriteStateAsync());
        _core.Persisted(snapshot);
    }

    private void OnWriteFailed(Exception ex)
    {
        if (ex is InconsistentStateException)
        {
            // Another activation wrote this row: this one is stale and must never answer again.
            _fenced = true;
            LogFenced(ex, _authKeyId, _sessionId);
            DeactivateOnIdle();
        }
        else
        {
            LogWriteFailed(ex, _authKeyId, _sessionId);
        }
    }

    private void ThrowIfFenced()
    {
        if (_fenced) throw new InvalidOperationException($"session {_authKeyId:x16}:{_sessionId:x16}: stale activation, retry");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {AuthKeyId} {SessionId} created, unique_id {UniqueId}")]
    private partial void LogSessionCreated(long authKeyId, long sessionId, long uniqueId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {AuthKeyId} {SessionId} destroyed (unique_id {UniqueId})")]
    private partial void LogSessionDestroyed(long authKeyId, long sessionId, long uniqueId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {AuthKeyId} {SessionId}: destroy_session for itself answered none")]
    private partial void LogDestroySelfRefused(long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {AuthKeyId} {SessionId}: auth key gone, orphaned session row deleted")]
    private partial void LogOrphanRemoved(long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {AuthKeyId} {SessionId}: state write failed, will retry with the next change")]
    private partial void LogWriteFailed(Exception ex, long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {AuthKeyId} {SessionId}: final state write failed; reservations keep replay protection")]
    private partial void LogFinalWriteFailed(Exception ex, long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {AuthKeyId} {SessionId}: another activation owns this session (ETag conflict); deactivating")]
    private partial void LogFenced(Exception ex, long authKeyId, long sessionId);
}
