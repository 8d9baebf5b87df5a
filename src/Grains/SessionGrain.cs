using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MtActors.Grains.Api;
using MtActors.Grains.AuthKeys;
using MtActors.Grains.Sessions;
using Orleans.Storage;

namespace MtActors.Grains;

/// <summary>
/// One MTProto session. State: <see cref="SessionState"/> under state name "session". The session
/// logic lives in <see cref="SessionCore"/>; this class loads it, persists it (coalesced, and before
/// answering when the answer depends on it) and talks to the auth key grain.
/// The row is not read at activation: a frame that would create the session on an empty core inserts the
/// first row right away (before any API call runs or anything is answered), and only when that insert finds
/// a row already there is the row read and the frame started again on it. A new session so costs one insert
/// instead of a read and an insert. A frame whose seq_no shows a client well into the session
/// (<see cref="NewSessionSeqNoLimit"/>), and every other first call, reads the row first (<see cref="EnsureLoadedAsync"/>).
/// <see cref="Destroy"/> may interleave with the other calls (destroy_session between two sessions
/// calling each other must not deadlock), so every call that touches state holds <see cref="_gate"/>.
/// </summary>
public sealed partial class SessionGrain : Grain, ISessionGrain
{
    private readonly StateStore<SessionState> _state;
    private readonly TimeProvider _clock;
    private readonly SessionOptions _options;
    private readonly ILogger<SessionGrain> _logger;
    private readonly MtProtoApiRouter _api;
    private readonly ISessionDirectory _directory;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CoalescingWriter _writer;
    private readonly long _authKeyId;
    private readonly long _sessionId;
    private SessionCore _core = null!;
    private bool _loaded; // the row has been read, or written by this activation: _core is the stored session
    private AuthKeySessionBinding? _binding;
    private bool _fenced;
    private bool _unconfirmed; // the first row is written, the auth key has not confirmed it yet (CreateFirstRowAsync)
    private readonly List<long> _uncertainWrites = []; // tokens of writes that failed without a version conflict since the last success (any may have committed)

    public SessionGrain(
        [FromKeyedServices(GrainServices.SessionStorage)] IGrainStorage storage,
        [FromKeyedServices(GrainServices.ClockKey)] TimeProvider clock,
        IOptions<SessionOptions> options,
        MtProtoApiRouter api,
        ISessionDirectory directory,
        ILogger<SessionGrain> logger)
    {
        _api = api;
        _directory = directory;
        _state = new StateStore<SessionState>(storage, GrainServices.SessionStateName, this.GetGrainId());
        _clock = clock;
        _options = options.Value;
        _logger = logger;
        (_authKeyId, _sessionId) = SessionKeys.FromGuid(this.GetPrimaryKey());
        _writer = new CoalescingWriter(WriteOnceAsync, OnWriteFailed, TimeSpan.FromMilliseconds(_options.BackgroundWriteDelayMilliseconds));
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _core = SessionCore.Empty(_options); // not read yet (see the class summary)
        GrainMetrics.SessionActivated();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        GrainMetrics.SessionDeactivated();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await _writer.IdleAsync();
            // An unconfirmed session answered nothing that depends on its row: it may not write one now, unchecked.
            if (_fenced || !_core.Exists || _unconfirmed) return;
            // Clean end: write the exact window and counters, releasing the reservations.
            SessionState final = _core.Snapshot(final: true);
            await WriteAsync(final, cancellationToken);
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

    public async Task<FrameResult> ProcessFrame(IncomingFrame frame) => (await ProcessOneAsync(frame)).Result;

    public async Task<FrameBatchResult> ProcessFrames(ImmutableArray<IncomingFrame> frames)
    {
        if (frames.IsDefaultOrEmpty) throw new ArgumentException("ProcessFrames needs at least one frame.", nameof(frames));
        var results = ImmutableArray.CreateBuilder<FrameResult>(frames.Length);
        foreach (IncomingFrame frame in frames)
        {
            FrameResult result;
            bool ranCalls;
            try
            {
                (result, ranCalls) = await ProcessOneAsync(frame);
            }
            catch (Exception ex) when (results.Count > 0)
            {
                // The frames before it are answered; the caller treats this one as a failed call.
                LogBatchFrameFailed(ex, _authKeyId, _sessionId, results.Count);
                return new FrameBatchResult(results.DrainToImmutable(), ex.GetType().Name + ": " + ex.Message);
            }
            results.Add(result);
            if (ranCalls || result.Disposition != FrameDisposition.Continue) break;
        }
        return new FrameBatchResult(results.DrainToImmutable(), null);
    }

    /// <summary>One frame; RanCalls: it ran API handlers or destroy_* outside the state lock.</summary>
    private async ValueTask<(FrameResult Result, bool RanCalls)> ProcessOneAsync(IncomingFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        FramePlan plan;
        await _gate.WaitAsync();
        try
        {
            ThrowIfFenced();
            AuthKeySessionBinding? binding = await BindAsync();
            if (binding is null) return (FrameResult.KeyUnknown, false);
            DateTimeOffset now = _clock.GetUtcNow();
            if (!_loaded && frame.SeqNo > NewSessionSeqNoLimit) await EnsureLoadedAsync(); // a resumed session: read first
            while (true)
            {
                plan = _core.BeginFrame(frame, binding, _sessionId, _authKeyId, now);
                if (!_loaded && !plan.Created)
                {
                    // The frame creates nothing on an empty core, so it needs the stored session: read it, start again.
                    await EnsureLoadedAsync();
                    continue;
                }
                if (plan.Created)
                {
                    FirstRow first = await CreateFirstRowAsync(now);
                    if (first == FirstRow.Refused) return (FrameResult.KeyUnknown, false);
                    if (first == FirstRow.Exists)
                    {
                        // The session is stored (an earlier activation, another silo): the frame again, on it.
                        await EnsureLoadedAsync();
                        continue;
                    }
                }
                break;
            }
            // Stored but never confirmed (the key could not be asked: its silo was down): confirmed before anything runs.
            if (_core.Exists && !await EnsureConfirmedAsync()) return (FrameResult.KeyUnknown, false);
            if (plan.CallCount == 0) return (await CompleteAsync(plan), false);
        }
        finally
        {
            _gate.Release();
        }

        // API handlers and destroy_* run outside the state lock: other frames of this session are served meanwhile
        // (they see a running query), and two sessions destroying each other cannot wait for each other's lock.
        foreach (PendingCall call in plan.CallList)
        {
            switch (call)
            {
                case ApiCall api:
                    await RunApiCallAsync(plan.Core, api);
                    break;
                case DestroySessionCall destroy:
                    try
                    {
                        destroy.Existed = await GrainFactory.GetSessionGrain(_authKeyId, destroy.SessionId).Destroy();
                    }
                    catch (Exception ex)
                    {
                        // Answered none (the session could not be shown to exist and be destroyed); the client may ask again.
                        LogDestroySessionFailed(ex, _authKeyId, _sessionId, destroy.SessionId);
                    }
                    break;
                case DestroyAuthKeyCall destroy:
                    try
                    {
                        destroy.Outcome = await GrainFactory.GetAuthKeyGrain(_authKeyId).DestroyAuthKey();
                    }
                    catch (Exception ex)
                    {
                        LogDestroyAuthKeyFailed(ex, _authKeyId, _sessionId);
                        destroy.Outcome = DestroyAuthKeyResult.Fail;
                    }
                    GrainMetrics.DestroyAuthKey(destroy.Outcome);
                    if (destroy.Outcome == DestroyAuthKeyResult.Ok) LogAuthKeyDestroyed(_authKeyId, _sessionId);
                    break;
            }
        }

        await _gate.WaitAsync();
        try
        {
            return (await CompleteAsync(plan), true);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The second half of a frame (under the lock): headers, packing, and durability before the answer.</summary>
    private async ValueTask<FrameResult> CompleteAsync(FramePlan plan)
    {
        FrameResult result = plan.Core.CompleteFrame(plan, _clock.GetUtcNow());
        foreach (PlannedMessage m in plan.Messages)
        {
            if (m.BadMsgCode != 0) GrainMetrics.BadMsg(m.BadMsgCode);
        }
        foreach (bool ok in plan.DestroySessionAnswers) GrainMetrics.DestroySession(ok); // none: an empty array, no enumerator allocated
        // A session destroyed meanwhile (destroy_auth_key, destroy_session from another session) writes nothing more.
        if (ReferenceEquals(plan.Core, _core) && !await PersistAsync(true)) return FrameResult.KeyUnknown;
        return result;
    }

    private async Task RunApiCallAsync(SessionCore core, ApiCall call)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_options.ApiCallTimeoutSeconds));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, call.Dropped);
        try
        {
            // invokeAfterMsg(s): a query still running in another frame of this session completes first.
            foreach (long after in call.InvokeAfter)
            {
                if (core.RunningQuery(after) is { } running) await running.WaitAsync(linked.Token);
            }
            IMtProtoApiHandler? handler = _api.Find(call.Request.ConstructorId);
            call.Result = handler is null
                ? RpcErrors.MethodInvalid
                : await handler.HandleAsync(call.Request, linked.Token).AsTask().WaitAsync(linked.Token);
        }
        catch (RpcErrorException ex)
        {
            call.Result = ApiResult.Error(ex.Code, ex.ErrorMessage);
        }
        catch (OperationCanceledException) when (call.Dropped.IsCancellationRequested)
        {
            // rpc_drop_answer: the answer is rpc_answer_dropped_running whatever the handler did.
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            LogApiTimeout(_authKeyId, _sessionId, call.Request.ConstructorId);
            call.Result = ApiResult.Error(500, "TIMEOUT");
        }
        catch (Exception ex)
        {
            LogApiFailed(ex, _authKeyId, _sessionId, call.Request.ConstructorId);
            call.Result = RpcErrors.Internal;
        }
    }

    public async Task<ReceiveResult> Receive(ReceiveRequest request)
    {
        await _gate.WaitAsync();
        try
        {
            ThrowIfFenced();
            await EnsureLoadedAsync();
            AuthKeySessionBinding? binding = await BindAsync();
            if (binding is null)
            {
                return new ReceiveResult(ReceiveStatus.AuthKeyUnknown, 0, false, [], []);
            }
            bool existed = _core.Exists;
            DateTimeOffset now = _clock.GetUtcNow();
            ReceiveResult result = _core.Receive(request.Salt, request.Messages.IsDefault ? [] : request.Messages, binding, now);
            // Created the way a frame creates a session (the row read above, so an insert that finds one is a conflict).
            if ((result.Created && await CreateFirstRowAsync(now) == FirstRow.Refused) || !await PersistAsync(existed || result.Created))
            {
                return new ReceiveResult(ReceiveStatus.AuthKeyUnknown, 0, false, [], []);
            }
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
            await EnsureLoadedAsync();
            if (!_core.Exists || messages.IsDefaultOrEmpty) return [];
            DateTimeOffset now = _clock.GetUtcNow();
            var headers = ImmutableArray.CreateBuilder<OutboundHeader>(messages.Length);
            foreach (OutboundKind kind in messages) headers.Add(_core.Allocate(kind, now));
            if (!await PersistAsync(true)) return [];
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
            await EnsureLoadedAsync();
            // A pending background write would only update the row that is about to be deleted.
            await _writer.DiscardPendingAsync();
            existed = _core.Exists;
            if (existed)
            {
                long uniqueId = _core.UniqueId;
                await DeleteRowAsync();
                LogSessionDestroyed(_authKeyId, _sessionId, uniqueId);
                // Nothing of the session may stay in memory either. (Only when it existed: an activation
                // that deactivates on every "none" would bounce queued calls from activation to activation.)
                DeactivateOnIdle();
            }
        }
        finally
        {
            _gate.Release();
        }
        return existed;
    }

    public async Task<SessionInfo?> GetInfo()
    {
        await _gate.WaitAsync();
        try
        {
            await EnsureLoadedAsync();
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
    private async ValueTask<AuthKeySessionBinding?> BindAsync()
    {
        if (_binding is not null)
        {
            if (_binding.ExpiresAt is not { } expiry || expiry > _clock.GetUtcNow()) return _binding;
            _binding = null;
        }
        _binding = await GrainFactory.GetAuthKeyGrain(_authKeyId).OpenSession(_sessionId, created: false);
        if (_binding is not null) return _binding;
        await EnsureLoadedAsync();
        if (_core.Exists)
        {
            // The key was destroyed (or expired) while this session's row survived: finish the job.
            await _writer.IdleAsync();
            await DeleteRowAsync();
            LogOrphanRemoved(_authKeyId, _sessionId);
        }
        return _binding;
    }

    /// <summary>Reads the row unless this activation already did (or wrote it): <see cref="_core"/> is then the stored session.</summary>
    private async Task EnsureLoadedAsync()
    {
        if (_loaded) return;
        _core = SessionCore.Empty(_options); // what a frame did to the unread core is dropped, also when the read fails
        await _state.ReadAsync();
        if (_state.RecordExists) _core = SessionCore.Load(_state.State, _options);
        _state.Release();
        _loaded = true;
    }

    /// <summary>
    /// Deletes the session's row (DeleteStateOnClear) and forgets the session in this activation: destroy_session, a
    /// row left by a destroyed key, a creation the key refused.
    /// </summary>
    private async Task DeleteRowAsync()
    {
        await GrainMetrics.TimeWriteAsync(() => _state.ClearAsync());
        _directory.Removed(_authKeyId, _sessionId);
        _core = SessionCore.Empty(_options);
        _unconfirmed = false;
        _binding = null;
    }

    /// <summary>
    /// A frame with a higher top-level seq_no comes from a client that has already sent more than 7 content-related
    /// messages in this session: the session is stored, so a new activation reads the row first instead of trying the
    /// insert (which would be refused). A new session's first frame has a small seq_no (the client counts from 0: 1
    /// for one query, at most 2n for a container of n queries); a session resumed after only a few messages still takes
    /// the insert-first way and pays a refused insert. Either guess is correct, only the order of the statements differs.
    /// </summary>
    internal const int NewSessionSeqNoLimit = 15;

    private enum FirstRow { Stored, Exists, Refused }

    /// <summary>
    /// The session was just created in memory by a frame: its first row is written now, before any call of the frame
    /// runs and before anything is answered, with the server msg_id reservation already covering the frame's answers.
    /// Then the key confirms it (<see cref="ConfirmCreatedAsync"/> explains the order). Exists: the row was never read
    /// and the insert found one (the caller reads it and starts the frame again). Refused: the key is gone; the row
    /// is deleted again.
    /// </summary>
    private async Task<FirstRow> CreateFirstRowAsync(DateTimeOffset now)
    {
        bool unread = !_loaded;
        _core.ReserveServerIds(now);
        try
        {
            await WriteOnceAsync();
        }
        catch (InconsistentStateException) when (unread)
        {
            return FirstRow.Exists;
        }
        catch (Exception ex)
        {
            // Nothing was answered from this core: the next frame starts from what is stored (or from nothing).
            _core = SessionCore.Empty(_options);
            if (ex is InconsistentStateException) OnWriteFailed(ex); // read as absent, and another activation wrote it
            else _loaded = false;
            throw;
        }
        _loaded = true;
        _unconfirmed = true; // until the key answers (if asking it fails, the next frame asks again first)
        return await ConfirmCreatedAsync() ? FirstRow.Stored : FirstRow.Refused;
    }

    /// <summary>
    /// Durable now if the answer depends on it, else a coalesced background write. False: the session's first row is
    /// stored but its key, asked again now (asking failed before), refused it (destroyed or expired meanwhile); the row
    /// is deleted again and the caller answers "key unknown".
    /// </summary>
    private async ValueTask<bool> PersistAsync(bool changed)
    {
        if (!_core.Exists || !changed) return true;
        if (!await EnsureConfirmedAsync()) return false;
        if (_core.MustPersist) await _writer.FlushAsync();
        else _writer.Schedule();
        return true;
    }

    /// <summary>Whether the session's first row is confirmed by its key; asks the key again when asking failed before.</summary>
    private ValueTask<bool> EnsureConfirmedAsync() => _unconfirmed ? new(ConfirmCreatedAsync()) : new(true);

    /// <summary>
    /// The key's confirmation of a session whose first row is written (docs/persistence.md, "Finding a key's sessions"):
    /// destroy_auth_key first stops confirming, then lists the stored session rows. A session confirmed before that
    /// wrote its row before, so the listing finds it; one refused deletes the row it wrote (false). Either way no session
    /// row outlives its key. (The key keeps no list of its own: creating a session costs its one insert.)
    /// </summary>
    private async Task<bool> ConfirmCreatedAsync()
    {
        _directory.Stored(_authKeyId, _sessionId);
        if (await GrainFactory.GetAuthKeyGrain(_authKeyId).OpenSession(_sessionId, created: true) is null)
        {
            await DeleteRowAsync();
            LogCreationRefused(_authKeyId, _sessionId);
            return false;
        }
        _unconfirmed = false;
        GrainMetrics.SessionCreated();
        LogSessionCreated(_authKeyId, _sessionId, _core.UniqueId);
        return true;
    }

    private async Task WriteOnceAsync()
    {
        SessionState snapshot = _core.Snapshot(final: false);
        await WriteAsync(snapshot, CancellationToken.None);
        _core.Persisted(snapshot);
    }

    /// <summary>
    /// Writes a snapshot under a fresh <see cref="SessionState.WriteToken"/>. A write that failed without a version
    /// conflict (the database went away) may still have committed; if a later write then meets a version conflict,
    /// the row is read back: carrying one of those writes' tokens, it is still this activation's row (nobody wrote
    /// since), so the write is retried on the version just read. Otherwise the conflict stands (another activation wrote).
    /// </summary>
    private async Task WriteAsync(SessionState snapshot, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            snapshot.WriteToken = Random.Shared.NextInt64(1, long.MaxValue);
            _state.State = snapshot;
            InconsistentStateException conflict;
            try
            {
                await GrainMetrics.TimeWriteAsync(() => _state.WriteAsync(cancellationToken));
                _uncertainWrites.Clear();
                return;
            }
            catch (InconsistentStateException ex) when (_uncertainWrites.Count > 0 && attempt == 0)
            {
                conflict = ex;
            }
            catch (Exception ex) when (ex is not InconsistentStateException)
            {
                if (_uncertainWrites.Count < 64) _uncertainWrites.Add(snapshot.WriteToken);
                throw;
            }

            await _state.ReadAsync(cancellationToken);
            if (!_state.RecordExists || !_uncertainWrites.Contains(_state.State.WriteToken))
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(conflict);
            }

            LogUncertainWriteCommitted(_authKeyId, _sessionId);
            _uncertainWrites.Clear();
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {AuthKeyId} {SessionId}: frame {Index} of a batch failed; the frames before it are answered")]
    private partial void LogBatchFrameFailed(Exception ex, long authKeyId, long sessionId, int index);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {AuthKeyId} {SessionId}: destroy_session of {TargetSessionId} failed; answered none")]
    private partial void LogDestroySessionFailed(Exception ex, long authKeyId, long sessionId, long targetSessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {AuthKeyId} {SessionId}: destroy_auth_key failed; answered fail")]
    private partial void LogDestroyAuthKeyFailed(Exception ex, long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {AuthKeyId} {SessionId}: destroy_auth_key destroyed the key")]
    private partial void LogAuthKeyDestroyed(long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {AuthKeyId} {SessionId}: API handler for {ConstructorId:x8} timed out")]
    private partial void LogApiTimeout(long authKeyId, long sessionId, uint constructorId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {AuthKeyId} {SessionId}: API handler for {ConstructorId:x8} failed")]
    private partial void LogApiFailed(Exception ex, long authKeyId, long sessionId, uint constructorId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {AuthKeyId} {SessionId} created, unique_id {UniqueId}")]
    private partial void LogSessionCreated(long authKeyId, long sessionId, long uniqueId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {AuthKeyId} {SessionId} destroyed (unique_id {UniqueId})")]
    private partial void LogSessionDestroyed(long authKeyId, long sessionId, long uniqueId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {AuthKeyId} {SessionId}: destroy_session for itself answered none")]
    private partial void LogDestroySelfRefused(long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {AuthKeyId} {SessionId}: auth key destroyed while the session was created; its row deleted again")]
    private partial void LogCreationRefused(long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {AuthKeyId} {SessionId}: auth key gone, orphaned session row deleted")]
    private partial void LogOrphanRemoved(long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {AuthKeyId} {SessionId}: state write failed, will retry with the next change")]
    private partial void LogWriteFailed(Exception ex, long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {AuthKeyId} {SessionId}: final state write failed; reservations keep replay protection")]
    private partial void LogFinalWriteFailed(Exception ex, long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {AuthKeyId} {SessionId}: a state write reported as failed had committed (database outage); the row is still this activation's")]
    private partial void LogUncertainWriteCommitted(long authKeyId, long sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {AuthKeyId} {SessionId}: another activation owns this session (ETag conflict); deactivating")]
    private partial void LogFenced(Exception ex, long authKeyId, long sessionId);
}
