using System.Buffers.Binary;
using System.Collections.Immutable;
using MtActors.Grains.Api;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;
using SchemaFutureSalt = MtActors.Protocol.Schema.FutureSalt;

namespace MtActors.Grains.Sessions;

// The session layer for one decrypted frame (ISessionGrain.ProcessFrame), in two halves around the calls the
// grain makes outside its state lock. docs/session-semantics.md describes every rule implemented here.
public sealed partial class SessionCore
{
    /// <summary>The most bytes packed into one msg_container (a larger message travels alone).</summary>
    public const int MaxContainerBytes = 1 << 20;

    /// <summary>One client message of the frame: the top-level one, or an item of its container.</summary>
    private readonly record struct Inbound(long MsgId, int SeqNo, ReadOnlyMemory<byte> Body);

    // BeginFrame's working lists, one pair per thread (BeginFrame runs synchronously and calls nothing that could
    // start another frame), emptied after each frame so that no frame's bytes stay referenced; an idle session keeps
    // none. Lists grown by a large container are dropped rather than kept.
    private const int ScratchKeep = 64;
    [ThreadStatic] private static List<Inbound>? t_inbound;
    [ThreadStatic] private static (bool Ok, UnwrappedQuery Query)[]? t_unwrapped;

    /// <summary>
    /// The first half of a frame: salt (48), the top-level msg_id's clock and modulo (16/17/18), container rules (64,
    /// and 19/20/32/33/34 for the container itself), then per message: replay window (duplicates, 20, 32/33),
    /// unwrapping (gzip_packed, invokeWithLayer, initConnection, invokeWithoutUpdates, invokeAfterMsg(s), ...),
    /// seq_no parity on the unwrapped object (34/35), and the service messages answered from memory.
    /// Creates the session on its first accepted message. API queries and destroy_* become <see cref="FramePlan.Calls"/>.
    /// </summary>
    public FramePlan BeginFrame(IncomingFrame frame, AuthKeySessionBinding binding, long sessionId, long authKeyId, DateTimeOffset now)
    {
        List<Inbound> inbound = t_inbound ?? new List<Inbound>(4);
        t_inbound = null; // taken: a nested call (there is none) would get lists of its own
        try
        {
            return BeginFrame(frame, binding, sessionId, authKeyId, now, inbound);
        }
        finally
        {
            if (t_unwrapped is { } unwrapped) Array.Clear(unwrapped, 0, Math.Min(inbound.Count, unwrapped.Length));
            if (inbound.Capacity <= ScratchKeep)
            {
                inbound.Clear();
                t_inbound = inbound;
            }
            if (t_unwrapped is { Length: > ScratchKeep }) t_unwrapped = null;
        }
    }

    private FramePlan BeginFrame(IncomingFrame frame, AuthKeySessionBinding binding, long sessionId, long authKeyId, DateTimeOffset now, List<Inbound> inbound)
    {
        long salt = _salts.Current(binding.SaltSeed, now);
        var plan = new FramePlan(this, salt);
        if (!_salts.IsAccepted(binding.SaltSeed, frame.Salt, now, binding.InitialSalt, binding.KeyCreatedAt))
        {
            plan.Add(new BadServerSalt(frame.MsgId, frame.SeqNo, (int)BadMsgCode.BadServerSalt, salt), badMsgCode: (int)BadMsgCode.BadServerSalt);
            return plan;
        }
        BadMsgCode code = MsgIdRules.Check(frame.MsgId, now);
        if (code != BadMsgCode.None)
        {
            AddBadMsg(plan, frame.MsgId, frame.SeqNo, code);
            return plan;
        }
        byte[] body = frame.Body ?? [];
        if (body.Length < 4 || (body.Length & 3) != 0) return plan; // not a TL object: nothing to answer

        uint topId = BinaryPrimitives.ReadUInt32LittleEndian(body);
        bool isContainer = topId is ConstructorIds.MsgContainer or ConstructorIds.MsgCopy;
        if (isContainer)
        {
            code = ReadContainer(frame.MsgId, frame.SeqNo, body, inbound);
            if (code == BadMsgCode.None) code = SeqNoRules.CheckClientParity(frame.SeqNo, topId);
            if (code == BadMsgCode.None) code = _window.Check(frame.MsgId, frame.SeqNo).ToBadMsgCode(isContainer: true);
            if (code != BadMsgCode.None)
            {
                AddBadMsg(plan, frame.MsgId, frame.SeqNo, code);
                return plan;
            }
        }
        else
        {
            inbound.Add(new Inbound(frame.MsgId, frame.SeqNo, body));
        }

        // Unwrap every message first: a container hidden in an item (gzip, wrappers) rejects the whole container (64).
        (bool Ok, UnwrappedQuery Query)[] unwrapped = t_unwrapped is { } kept && kept.Length >= inbound.Count
            ? kept
            : t_unwrapped = new (bool, UnwrappedQuery)[Math.Max(inbound.Count, 4)];
        for (int i = 0; i < inbound.Count; i++)
        {
            bool ok = ApiWrappers.TryUnwrap(inbound[i].Body, out UnwrappedQuery query, out _);
            if (ok && query.ConstructorId is ConstructorIds.MsgContainer or ConstructorIds.MsgCopy)
            {
                AddBadMsg(plan, frame.MsgId, frame.SeqNo, BadMsgCode.InvalidContainer);
                return plan;
            }
            unwrapped[i] = (ok, query);
        }

        // A frame that passed the salt, clock and container checks on a connection the session has not seen last:
        // re-send what is unacknowledged (also when the frame only repeats messages the session already has).
        if (frame.ConnectionId != _connectionId)
        {
            _connectionId = frame.ConnectionId;
            plan.NewConnection = true;
        }

        // The messages processed (a container is not one of them): how many, the lowest and highest msg_id.
        int accepted = 0;
        long lowest = long.MaxValue, highest = long.MinValue;
        if (isContainer) _window.Add(frame.MsgId, frame.SeqNo);
        int firstOutput = plan.Messages.Count;
        for (int i = 0; i < inbound.Count; i++)
        {
            Inbound m = inbound[i];
            MsgIdCheck check = _window.Check(m.MsgId, m.SeqNo);
            if (check == MsgIdCheck.Duplicate)
            {
                AnswerDuplicate(plan, m);
                continue;
            }
            code = check.ToBadMsgCode(isContainer: false);
            if (code == BadMsgCode.None && unwrapped[i].Ok) code = SeqNoRules.CheckParity(m.SeqNo, ExpectedParity(unwrapped[i].Query.ConstructorId));
            if (code != BadMsgCode.None)
            {
                AddBadMsg(plan, m.MsgId, m.SeqNo, code);
                continue;
            }
            _window.Add(m.MsgId, m.SeqNo);
            accepted++;
            lowest = Math.Min(lowest, m.MsgId);
            highest = Math.Max(highest, m.MsgId);
            int before = plan.Messages.Count + plan.CallCount;
            if (unwrapped[i].Ok) Dispatch(plan, m, unwrapped[i].Query, binding, sessionId, authKeyId, now);
            else if (SeqNoRules.IsContentRelated(m.SeqNo)) AddRpcResult(plan, m.MsgId, RpcErrors.InputFetchError); // an unreadable query
            if (SeqNoRules.IsContentRelated(m.SeqNo) && plan.Messages.Count + plan.CallCount == before
                && !(unwrapped[i].Ok && unwrapped[i].Query.ConstructorId == ConstructorIds.MsgsAck))
            {
                plan.AckIds.Add(m.MsgId); // nothing else acknowledges it (an acknowledgement itself is never acknowledged)
            }
        }

        if (accepted == 0)
        {
            // Only the container was new: it must stay a duplicate after a crash too.
            if (isContainer && _exists && frame.MsgId > _clientReserve) _clientReserve = frame.MsgId + _reservation;
        }
        else
        {
            if (isContainer) highest = Math.Max(highest, frame.MsgId);
            if (!_exists || _recovered)
            {
                // Created, or re-created after a crash lost the volatile part: the client re-sends what it sent before.
                plan.Created = !_exists;
                _exists = true;
                _recovered = false;
                _uniqueId = NewUniqueId();
                if (plan.Created) _createdAt = now;
                _firstMsgId = lowest;
                AnnounceSession(plan, firstOutput);
            }
            else if (lowest < _firstMsgId)
            {
                // spec 4.3: announced again (same unique_id) for an even lower msg_id.
                _firstMsgId = lowest;
                AnnounceSession(plan, firstOutput);
            }
            if (highest > _clientReserve) _clientReserve = highest + _reservation;
            _lastActivityAt = now;
        }
        return plan;
    }

    /// <summary>
    /// The seq_no parity required of a client message by its unwrapped constructor: <see cref="ContentRelation.ExpectedFromClient"/>,
    /// except that msgs_ack is accepted with either parity. The documentation requires it even (34), but mtcute 0.30.3
    /// numbers its msgs_ack as content-related (odd) and works against Telegram, and refusing its acks makes it reset
    /// the session and reconnect in a loop. 34 stays for msg_container and msg_copy.
    /// </summary>
    internal static SeqNoParity ExpectedParity(uint constructorId) =>
        constructorId == ConstructorIds.MsgsAck ? SeqNoParity.Either : ContentRelation.ExpectedFromClient(constructorId);

    private void AnnounceSession(FramePlan plan, int at)
    {
        var notice = new PlannedMessage
        {
            Body = new NewSessionCreated(_firstMsgId, _uniqueId, plan.Salt).ToBytes(),
            ContentRelated = true,
        };
        plan.Messages.Insert(at, notice);
    }

    /// <summary>Reads a msg_container (or msg_copy, handled as a one-item container) into <paramref name="items"/>; 64 when invalid.</summary>
    private static BadMsgCode ReadContainer(long msgId, int seqNo, byte[] body, List<Inbound> items)
    {
        var r = new TlReader(body);
        uint id = r.ReadUInt32();
        if (id == ConstructorIds.MsgContainer)
        {
            if (ContainerRules.Validate(msgId, seqNo, body) != BadMsgCode.None) return BadMsgCode.InvalidContainer;
            r = new TlReader(body);
            MsgContainer.TryReadHeader(ref r, out int count);
            for (int i = 0; i < count; i++)
            {
                MsgContainer.TryReadItem(ref r, out ContainerItem item);
                items.Add(new Inbound(item.MsgId, item.SeqNo, body.AsMemory(r.Position - item.Body.Length, item.Body.Length)));
            }
            return BadMsgCode.None;
        }
        // msg_copy: the same rules as a container of one.
        if (!MsgCopy.TryReadMessage(ref r, out ContainerItem copy) || !r.AtEnd
            || copy.MsgId >= msgId || (copy.MsgId & 3) != 0 || copy.SeqNo > seqNo
            || copy.BodyConstructorId is ConstructorIds.MsgContainer or ConstructorIds.MsgCopy)
        {
            return BadMsgCode.InvalidContainer;
        }
        items.Add(new Inbound(copy.MsgId, copy.SeqNo, body.AsMemory(r.Position - copy.Body.Length, copy.Body.Length)));
        return BadMsgCode.None;
    }

    private static void AddBadMsg(FramePlan plan, long msgId, int seqNo, BadMsgCode code) =>
        plan.Add(new BadMsgNotification(msgId, seqNo, (int)code), badMsgCode: (int)code);

    /// <summary>One accepted message, by the constructor of its unwrapped body.</summary>
    private void Dispatch(FramePlan plan, Inbound m, UnwrappedQuery query, AuthKeySessionBinding binding, long sessionId, long authKeyId, DateTimeOffset now)
    {
        uint id = query.ConstructorId;
        if (query.Layer is { } layer) _layer = layer;
        if (query.InitConnection is { } init) _connection = ToConnectionInfo(init);
        if (!ServiceSchema.IsServiceConstructor(id))
        {
            var record = new QueryRecord(m.MsgId, running: true);
            _queries[m.MsgId] = record;
            PlannedMessage output = plan.Add(null, contentRelated: true, answers: m.MsgId);
            var request = new ApiRequest(id, query.Query, authKeyId, sessionId, m.MsgId,
                query.Layer ?? (_layer == 0 ? null : _layer), query.InitConnection ?? FromConnectionInfo(_connection), query.WithoutUpdates);
            plan.CallList.Add(new ApiCall(m.MsgId, request, query.InvokeAfterMsgIds, record, output));
            return;
        }
        if (!ServiceSchema.TryRead(query.Query.Span, out TlObject? service, out _)) return; // malformed service message: ignored
        switch (service)
        {
            case MsgsAck ack:
                foreach (long acked in ack.MsgIds) Acknowledge(acked);
                break;
            case Ping ping:
                plan.Add(new Pong(m.MsgId, ping.PingId));
                break;
            case PingDelayDisconnect ping:
                plan.Add(new Pong(m.MsgId, ping.PingId));
                plan.DisconnectDelaySeconds = Math.Max(1, ping.DisconnectDelay);
                break;
            case GetFutureSalts get:
                plan.Add(new FutureSalts(m.MsgId, (int)now.ToUnixTimeSeconds(),
                    [.. SaltSchedule.Future(binding.SaltSeed, now, get.Num).Select(s => new SchemaFutureSalt(s.ValidSince, s.ValidUntil, s.Salt))]));
                break;
            case MsgsStateReq req:
                plan.Add(new MsgsStateInfo(m.MsgId, States(req.MsgIds)));
                break;
            case MsgResendReq resend:
                Resend(plan, m.MsgId, resend.MsgIds);
                break;
            case MsgsAllInfo info:
                // The client's voluntary status of our messages: "received" counts as an acknowledgement.
                for (int i = 0; i < info.MsgIds.Length && i < info.Info.Length; i++)
                {
                    if ((info.Info[i] & 7) == 4) Acknowledge(info.MsgIds[i]);
                }
                break;
            case RpcDropAnswer drop:
                AddRpcResult(plan, m.MsgId, DropAnswer(drop.ReqMsgId));
                break;
            case DestroySession destroy when destroy.SessionId == sessionId:
                // The protocol leaves this undefined: keep the live session, answer none (spec §5).
                AddDestroyAnswer(plan, m.MsgId, new DestroySessionNone(sessionId));
                plan.DestroySessionList.Add(false);
                break;
            case DestroySession destroy:
            {
                var (bare, wrapped) = AddDestroyPlaceholders(plan, m.MsgId);
                plan.CallList.Add(new DestroySessionCall(m.MsgId, destroy.SessionId, bare, wrapped));
                break;
            }
            case DestroyAuthKey:
            {
                var (bare, wrapped) = AddDestroyPlaceholders(plan, m.MsgId);
                plan.CallList.Add(new DestroyAuthKeyCall(m.MsgId, bare, wrapped));
                break;
            }
            default:
                // http_wait (HTTP transport only: nothing to wait for here), and objects only a server sends
                // (pong, rpc_result, msg_detailed_info, ...): accepted, no answer.
                break;
        }
    }

    /// <summary>A duplicated message: never processed twice. A query's answer is re-sent (small, not acknowledged yet) or described.</summary>
    private void AnswerDuplicate(FramePlan plan, Inbound m)
    {
        if (_queries.TryGetValue(m.MsgId, out QueryRecord? record))
        {
            if (record.Running)
            {
                plan.AckIds.Add(m.MsgId); // received, still running
            }
            else if (!record.Acked && _outbox.TryGet(record.AnswerMsgId, out UnackedMessage answer)
                && answer.Body.Length <= _options.DuplicateAnswerResendMaxBytes)
            {
                plan.Resends.Add(answer);
            }
            else if (record.AnswerMsgId != 0)
            {
                plan.Add(new MsgDetailedInfo(m.MsgId, record.AnswerMsgId, record.AnswerBytes, 0));
            }
        }
        else if (SeqNoRules.IsContentRelated(m.SeqNo))
        {
            plan.AckIds.Add(m.MsgId);
        }
    }

    /// <summary>msgs_ack (or "received" in msgs_all_info) for one of our messages.</summary>
    private void Acknowledge(long serverMsgId)
    {
        if (_outbox.Remove(serverMsgId, out UnackedMessage message) && message.ReqMsgId != 0
            && _queries.TryGetValue(message.ReqMsgId, out QueryRecord? record) && record.AnswerMsgId == serverMsgId)
        {
            record.Acked = true;
        }
    }

    /// <summary>msgs_state_info: one status byte per client msg_id (service_messages_about_messages).</summary>
    private ImmutableArray<byte> States(ImmutableArray<long> msgIds)
    {
        var info = new byte[msgIds.Length];
        for (int i = 0; i < info.Length; i++) info[i] = State(msgIds[i]);
        return [.. info];
    }

    /// <summary>
    /// 1 nothing known (too low), 2 not received (within the received range), 3 not received (too high), 4 received,
    /// plus +8 acknowledged by us (an answer was sent), +16 needs no acknowledgement (even seq_no), +32 an RPC query
    /// being processed or processed, +64 its answer generated, +128 the client acknowledged that answer.
    /// </summary>
    internal byte State(long msgId)
    {
        if (!_window.TryGetReceived(msgId, out int seqNo)) return _window.NotReceivedStatus(msgId);
        int state = 4;
        if (!SeqNoRules.IsContentRelated(seqNo)) state |= 16;
        if (_queries.TryGetValue(msgId, out QueryRecord? record))
        {
            state |= 32;
            if (!record.Running && record.AnswerMsgId != 0) state |= 8 | 64;
            if (record.Acked) state |= 128;
        }
        return (byte)state;
    }

    /// <summary>msg_resend_req: our messages re-sent when all are known, else msgs_state_info for all (as the docs say).</summary>
    private void Resend(FramePlan plan, long reqMsgId, ImmutableArray<long> msgIds)
    {
        var found = new List<UnackedMessage>(msgIds.Length);
        foreach (long id in msgIds)
        {
            if ((id & 3) == 0 || !_outbox.TryGet(id, out UnackedMessage message))
            {
                plan.Add(new MsgsStateInfo(reqMsgId, States(msgIds)));
                return;
            }
            found.Add(message);
        }
        plan.Resends.AddRange(found);
    }

    /// <summary>rpc_drop_answer: what became of the query's answer.</summary>
    private ApiResult DropAnswer(long reqMsgId)
    {
        if (!_queries.TryGetValue(reqMsgId, out QueryRecord? record)) return ApiResult.Ok(RpcAnswerUnknown.Instance);
        if (record.Running)
        {
            record.DropRequested = true;
            record.Cancel?.Cancel();
            return ApiResult.Ok(RpcAnswerDroppedRunning.Instance);
        }
        if (!record.Acked && _outbox.Remove(record.AnswerMsgId, out UnackedMessage answer))
        {
            record.Acked = true; // settled: nothing left to re-send
            return ApiResult.Ok(new RpcAnswerDropped(answer.MsgId, answer.SeqNo, answer.Body.Length));
        }
        return ApiResult.Ok(RpcAnswerUnknown.Instance);
    }

    private void AddRpcResult(FramePlan plan, long reqMsgId, ApiResult result)
    {
        _queries[reqMsgId] = new QueryRecord(reqMsgId, running: false);
        plan.Add(null, contentRelated: true, answers: reqMsgId).Body = RpcResultBody(reqMsgId, result);
    }

    private static byte[] RpcResultBody(long reqMsgId, ApiResult result)
    {
        if (result.Result is null && result.ErrorMessage is null) result = RpcErrors.Internal; // a handler returned default
        using var writer = new TlWriter();
        if (result.Result is { } bytes) RpcResult.Write(writer, reqMsgId, bytes);
        else
        {
            RpcResult.WriteHeader(writer, reqMsgId);
            new RpcError(result.ErrorCode, result.ErrorMessage!).WriteTo(writer);
        }
        return writer.ToArray();
    }

    private void AddDestroyAnswer(FramePlan plan, long reqMsgId, TlObject answer)
    {
        var (bare, wrapped) = AddDestroyPlaceholders(plan, reqMsgId);
        FillDestroyAnswer(bare, wrapped, reqMsgId, answer);
    }

    private (PlannedMessage? Bare, PlannedMessage? Wrapped) AddDestroyPlaceholders(FramePlan plan, long reqMsgId)
    {
        DestroyAnswerForm form = _options.DestroyAnswers;
        PlannedMessage? bare = form is DestroyAnswerForm.Bare or DestroyAnswerForm.Both ? plan.Add(null) : null;
        PlannedMessage? wrapped = null;
        if (form is DestroyAnswerForm.RpcResult or DestroyAnswerForm.Both)
        {
            _queries[reqMsgId] = new QueryRecord(reqMsgId, running: true);
            wrapped = plan.Add(null, contentRelated: true, answers: reqMsgId);
        }
        return (bare, wrapped);
    }

    private static void FillDestroyAnswer(PlannedMessage? bare, PlannedMessage? wrapped, long reqMsgId, TlObject answer)
    {
        if (bare is not null) bare.Body = answer.ToBytes();
        if (wrapped is not null) wrapped.Body = RpcResultBody(reqMsgId, ApiResult.Ok(answer));
    }

    /// <summary>
    /// The second half: the calls' results become messages, headers are allocated in order, content-related ones
    /// are kept until acknowledged, re-sends (new connection, msg_resend_req, duplicated queries) go first, and
    /// everything is packed into as few frames as the container rules allow.
    /// </summary>
    public FrameResult CompleteFrame(FramePlan plan, DateTimeOffset now)
    {
        for (int i = 0; i < plan.CallCount; i++)
        {
            PendingCall call = plan.CallList[i];
            switch (call)
            {
                case ApiCall api:
                    api.Output.Body = RpcResultBody(api.MsgId, api.Record.DropRequested ? ApiResult.Ok(RpcAnswerDroppedRunning.Instance) : api.Result);
                    break;
                case DestroySessionCall destroy:
                    plan.DestroySessionList.Add(destroy.Existed);
                    FillDestroyAnswer(destroy.Bare, destroy.Wrapped, destroy.MsgId,
                        destroy.Existed ? new DestroySessionOk(destroy.SessionId) : new DestroySessionNone(destroy.SessionId));
                    break;
                case DestroyAuthKeyCall destroy:
                    FillDestroyAnswer(destroy.Bare, destroy.Wrapped, destroy.MsgId, destroy.Outcome switch
                    {
                        DestroyAuthKeyResult.Ok => DestroyAuthKeyOk.Instance,
                        DestroyAuthKeyResult.None => DestroyAuthKeyNone.Instance,
                        _ => DestroyAuthKeyFail.Instance,
                    });
                    if (destroy.Outcome != DestroyAuthKeyResult.Fail) plan.CloseAfterSend = true;
                    break;
            }
        }
        if (plan.HasAckIds) plan.Add(new MsgsAck([.. plan.AckIds]));

        // Re-sends keep their msg_id and seq_no and always travel inside a container (a message must not be sent
        // again on its own with the same msg_id).
        if (plan.NewConnection || plan.HasResends || !TryPackAlone(plan.Messages, now, out ImmutableArray<OutgoingMessage> frames))
        {
            frames = Pack(PackingOrder(plan), now);
        }
        for (int i = 0; i < plan.CallCount; i++)
        {
            PendingCall call = plan.CallList[i];
            if (call is ApiCall { Record: var r }) r.Done?.TrySetResult();
        }
        ForgetOldQueries();
        return new FrameResult(
            plan.CloseAfterSend ? FrameDisposition.CloseAfterSend : FrameDisposition.Continue,
            plan.Salt,
            frames,
            plan.DisconnectDelaySeconds);
    }

    /// <summary>
    /// Nothing to re-send and at most one new message with a body (a ping's frame, most query frames): what
    /// <see cref="Pack"/> would make of it, without building its list.
    /// </summary>
    private bool TryPackAlone(List<PlannedMessage> messages, DateTimeOffset now, out ImmutableArray<OutgoingMessage> frames)
    {
        PlannedMessage? only = null;
        foreach (PlannedMessage m in messages)
        {
            if (m.Body is null) continue;
            if (only is not null)
            {
                frames = default;
                return false;
            }
            only = m;
        }
        frames = only is null ? [] : [Emit(only, now)];
        return true;
    }

    /// <summary>Re-sends first (each once: the unacknowledged ones on a new connection, then those asked for), then the new messages.</summary>
    private List<Pending> PackingOrder(FramePlan plan)
    {
        var items = new List<Pending>(plan.Messages.Count);
        if (plan.NewConnection || plan.HasResends)
        {
            var resent = new HashSet<long>();
            if (plan.NewConnection)
            {
                foreach (UnackedMessage m in _outbox.All)
                {
                    if (resent.Add(m.MsgId)) items.Add(new Pending(m.Body, m, null));
                }
            }
            if (plan.HasResends)
            {
                foreach (UnackedMessage m in plan.Resends)
                {
                    if (resent.Add(m.MsgId)) items.Add(new Pending(m.Body, m, null));
                }
            }
        }
        foreach (PlannedMessage m in plan.Messages)
        {
            if (m.Body is not null) items.Add(new Pending(m.Body, null, m));
        }
        return items;
    }

    /// <summary>A message to pack: a re-send (its header kept) or a new one (its header allocated when packed).</summary>
    private readonly record struct Pending(byte[] Body, UnackedMessage? Resend, PlannedMessage? New);

    /// <summary>
    /// One message alone when that is all there is (and it is not a re-send); else containers of at most 1024 items
    /// and <see cref="MaxContainerBytes"/> (a larger message travels alone). Headers are allocated in sending order:
    /// a container after its items (greater msg_id, even seq_no, not below theirs), so msg_ids rise frame by frame.
    /// </summary>
    private ImmutableArray<OutgoingMessage> Pack(List<Pending> items, DateTimeOffset now)
    {
        if (items.Count == 0) return [];
        if (items.Count == 1 && items[0].New is { } only) return [Emit(only, now)];
        var frames = ImmutableArray.CreateBuilder<OutgoingMessage>();
        int start = 0;
        while (start < items.Count)
        {
            int end = start;
            long bytes = 8;
            while (end < items.Count && end - start < MsgContainer.MaxItems)
            {
                long size = ContainerMessage.HeaderSize + items[end].Body.Length;
                if (end > start && bytes + size > MaxContainerBytes) break;
                bytes += size;
                end++;
            }
            if (end - start == 1 && items[start].New is { } big && bytes > MaxContainerBytes)
            {
                frames.Add(Emit(big, now)); // too big to share a container, and not a re-send
            }
            else
            {
                using var writer = new TlWriter((int)Math.Min(bytes, int.MaxValue));
                MsgContainer.WriteHeader(writer, end - start);
                for (int i = start; i < end; i++)
                {
                    OutgoingMessage m = items[i].Resend is { } resend
                        ? new OutgoingMessage(resend.MsgId, resend.SeqNo, resend.Body)
                        : Emit(items[i].New!, now);
                    MsgContainer.WriteItem(writer, m.MsgId, m.SeqNo, m.Body);
                }
                OutboundHeader header = Allocate(OutboundKind.Response, now);
                frames.Add(new OutgoingMessage(header.MsgId, header.SeqNo, writer.ToArray()));
            }
            start = end;
        }
        return frames.ToImmutable();
    }

    /// <summary>Allocates a new message's header; a content-related one is kept until acknowledged, an answer recorded.</summary>
    private OutgoingMessage Emit(PlannedMessage m, DateTimeOffset now)
    {
        byte[] body = m.Body!;
        OutboundHeader header = Allocate(m.ContentRelated ? OutboundKind.ContentRelated | OutboundKind.Response : OutboundKind.Response, now);
        if (m.ContentRelated && _exists)
        {
            _outbox.Add(new UnackedMessage { MsgId = header.MsgId, SeqNo = header.SeqNo, Body = body, ReqMsgId = m.AnswersMsgId });
        }
        if (m.AnswersMsgId != 0 && _queries.TryGetValue(m.AnswersMsgId, out QueryRecord? record))
        {
            record.Running = false;
            record.AnswerMsgId = header.MsgId;
            record.AnswerSeqNo = header.SeqNo;
            record.AnswerBytes = body.Length;
            record.Done?.TrySetResult();
        }
        return new OutgoingMessage(header.MsgId, header.SeqNo, body);
    }

    /// <summary>
    /// A query that left the msg_id window can no longer be duplicated (it gets 20): forget its record once there
    /// are more records than the window holds ids.
    /// </summary>
    private void ForgetOldQueries()
    {
        if (_queries.Count <= _options.ReplayWindowSize) return;
        List<long>? old = null;
        foreach (QueryRecord record in _queries.Values)
        {
            if (!record.Running && !_window.TryGetReceived(record.ReqMsgId, out _)) (old ??= []).Add(record.ReqMsgId);
        }
        if (old is null) return;
        foreach (long id in old) _queries.Remove(id);
    }

    /// <summary>Whether a query of this session is still running (invokeAfterMsg waits for it).</summary>
    internal Task? RunningQuery(long msgId) => _queries.TryGetValue(msgId, out QueryRecord? r) && r.Running ? r.Done?.Task : null;

    /// <summary>The last layer and initConnection the client sent.</summary>
    public int Layer => _layer;

    internal SessionConnectionInfo? Connection => _connection;

    private static SessionConnectionInfo ToConnectionInfo(InitConnection init) => new()
    {
        ApiId = init.ApiId,
        DeviceModel = init.DeviceModel,
        SystemVersion = init.SystemVersion,
        AppVersion = init.AppVersion,
        SystemLangCode = init.SystemLangCode,
        LangPack = init.LangPack,
        LangCode = init.LangCode,
        ProxyAddress = init.Proxy?.Address,
        ProxyPort = init.Proxy?.Port ?? 0,
        ParamsJson = init.ParamsJson,
    };

    private static InitConnection? FromConnectionInfo(SessionConnectionInfo? c) =>
        c is null
            ? null
            : new InitConnection(c.ApiId, c.DeviceModel, c.SystemVersion, c.AppVersion, c.SystemLangCode, c.LangPack, c.LangCode,
                c.ProxyAddress is null ? null : new InputClientProxy(c.ProxyAddress, c.ProxyPort));
}
