using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
using MtActors.Protocol.Messages;

namespace MtActors.Grains.Sessions;

/// <summary>
/// The session layer's bookkeeping for one MTProto session, without Orleans: salts, the client msg_id
/// window and replay floor, server msg_id / seq_no allocation, creation (unique_id, first_msg_id).
/// The grain loads it from <see cref="SessionState"/>, calls it, and persists <see cref="Snapshot"/>:
/// in the background (coalesced) normally, and before answering when <see cref="MustPersist"/> is set
/// (the session was created, or a reservation of msg_id space had to be extended).
/// </summary>
public sealed partial class SessionCore
{
    private readonly SessionOptions _options;
    private readonly long _reservation; // msg_id units
    private ClientMsgIdWindow _window;
    private bool _exists;
    private long _uniqueId;
    private DateTimeOffset _createdAt;
    private DateTimeOffset _lastActivityAt;
    private long _firstMsgId;
    private long _serverLast;
    private int _contentSent;
    // What the row in storage guarantees (last successful write), and what the next write will claim.
    private long _durableClientReserved;
    private long _durableServerReserved;
    private long _clientReserve;
    private long _serverReserve;
    // The volatile part (docs/session-semantics.md): kept across a clean deactivation, lost by a crash.
    private readonly Outbox _outbox;
    private readonly SaltCache _salts = new();
    private readonly Dictionary<long, QueryRecord> _queries = [];
    private long _connectionId;
    private bool _recovered; // loaded from a row an activation did not end cleanly: announce the loss once
    private int _layer;
    private SessionConnectionInfo? _connection;

    private SessionCore(SessionOptions options)
    {
        _options = options;
        _reservation = (long)options.ReservationSeconds << 32;
        _window = new ClientMsgIdWindow(options.ReplayWindowSize);
        _outbox = new Outbox(options.MaxUnackedMessages, options.MaxUnackedBytes);
    }

    /// <summary>A session that does not exist yet.</summary>
    public static SessionCore Empty(SessionOptions options) => new(options);

    /// <summary>
    /// The session as a new activation finds it in storage. Whatever an earlier activation may have
    /// accepted or sent without writing it down lies inside its reservations: client ids at or below
    /// the client reservation that are not in the window become "too old to tell", and server ids
    /// continue above the server reservation.
    /// </summary>
    public static SessionCore Load(SessionState state, SessionOptions options)
    {
        var core = new SessionCore(options)
        {
            _exists = true,
            _uniqueId = state.UniqueId,
            _createdAt = state.CreatedAt,
            _lastActivityAt = state.LastActivityAt,
            _firstMsgId = state.FirstMsgId,
            _serverLast = Math.Max(state.ServerLastMsgId, state.ServerReservedUpTo),
            _contentSent = state.ContentMessagesSent,
            _durableClientReserved = state.ClientReservedUpTo,
            _durableServerReserved = state.ServerReservedUpTo,
        };
        core._window = ClientMsgIdWindow.FromState(
            new ReceivedMsgWindowState(state.ClientFloorMsgId, state.ClientFloorSeqNo, state.RecentClientMsgIds, state.RecentClientSeqNos),
            options.ReplayWindowSize, state.ClientHighWater, state.ClientUnknownUpTo);
        core._window.ForgetUpTo(state.ClientReservedUpTo);
        core._clientReserve = core._durableClientReserved;
        core._serverReserve = core._durableServerReserved;
        core._layer = state.Layer;
        core._connection = state.Connection;
        // A clean deactivation releases the client reservation (0); anything else means the last activation
        // ended without its final write, and with it went the unacknowledged messages and answers.
        core._recovered = state.ClientReservedUpTo != 0;
        foreach (UnackedMessage m in state.Unacked ?? []) core._outbox.Add(m);
        foreach (AnsweredQuery q in state.Answers ?? [])
        {
            core._queries[q.ReqMsgId] = new QueryRecord(q.ReqMsgId, running: false)
            {
                AnswerMsgId = q.AnswerMsgId, AnswerSeqNo = q.AnswerSeqNo, AnswerBytes = q.AnswerBytes, Acked = q.Acked,
            };
        }
        return core;
    }

    public bool Exists => _exists;
    public long UniqueId => _uniqueId;
    public long FirstMsgId => _firstMsgId;
    public DateTimeOffset CreatedAt => _createdAt;
    public DateTimeOffset LastActivityAt => _lastActivityAt;
    public long LastClientMsgId => _window.HighWater;
    public long LastServerMsgId => _serverLast;
    public int ContentMessagesSent => _contentSent;

    /// <summary>True when the current state must be durable before anything computed from it is sent.</summary>
    public bool MustPersist => _clientReserve > _durableClientReserved || _serverReserve > _durableServerReserved;

    /// <summary>
    /// One frame: salt check, then each message's msg_id; creates the session on its first accepted
    /// message. <paramref name="salts"/> is the auth key's salt material.
    /// </summary>
    public ReceiveResult Receive(long salt, IReadOnlyList<InboundMessage> messages, AuthKeySessionBinding salts, DateTimeOffset now)
    {
        long currentSalt = _salts.Current(salts.SaltSeed, now);
        var notices = ImmutableArray.CreateBuilder<SessionNotice>();
        if (!_salts.IsAccepted(salts.SaltSeed, salt, now, salts.InitialSalt, salts.KeyCreatedAt))
        {
            InboundMessage first = messages.Count > 0 ? messages[0] : new InboundMessage(0, 0);
            notices.Add(new SessionNotice(SessionNoticeKind.BadServerSalt, first.MsgId, first.SeqNo, 48, 0, currentSalt,
                Allocate(OutboundKind.Response, now)));
            return new ReceiveResult(ReceiveStatus.BadServerSalt, currentSalt, false, [], notices.ToImmutable());
        }

        var outcomes = ImmutableArray.CreateBuilder<MessageOutcome>(messages.Count);
        long lowestAccepted = long.MaxValue;
        long highestAccepted = long.MinValue;
        for (int i = 0; i < messages.Count; i++)
        {
            InboundMessage m = messages[i];
            MessageVerdict verdict = _window.Accept(m.MsgId, m.SeqNo, topLevel: i == 0, now);
            outcomes.Add(new MessageOutcome(m.MsgId, m.SeqNo, verdict));
            if (verdict == MessageVerdict.Accepted)
            {
                lowestAccepted = Math.Min(lowestAccepted, m.MsgId);
                highestAccepted = Math.Max(highestAccepted, m.MsgId);
            }
        }

        bool created = false;
        if (lowestAccepted != long.MaxValue)
        {
            if (!_exists)
            {
                _exists = true;
                created = true;
                _uniqueId = NewUniqueId();
                _createdAt = now;
                _firstMsgId = lowestAccepted;
            }
            if (created || lowestAccepted < _firstMsgId)
            {
                // spec 4.3: announced again (same unique_id) when an even lower msg_id arrives later.
                _firstMsgId = Math.Min(_firstMsgId, lowestAccepted);
                notices.Add(new SessionNotice(SessionNoticeKind.NewSessionCreated, _firstMsgId, 0, 0, _uniqueId, currentSalt,
                    Allocate(OutboundKind.ContentRelated | OutboundKind.Response, now)));
            }
            if (highestAccepted > _clientReserve) _clientReserve = highestAccepted + _reservation;
            _lastActivityAt = now;
        }

        foreach (MessageOutcome o in outcomes)
        {
            if (o.Verdict is MessageVerdict.Accepted or MessageVerdict.Duplicate) continue;
            notices.Add(new SessionNotice(SessionNoticeKind.BadMsgNotification, o.MsgId, o.SeqNo, (int)o.Verdict, 0, currentSalt,
                Allocate(OutboundKind.Response, now)));
        }
        return new ReceiveResult(ReceiveStatus.Ok, currentSalt, created, outcomes.MoveToImmutable(), notices.ToImmutable());
    }

    /// <summary>Next server msg_id and seq_no (spec 2.1 / 2.2).</summary>
    public OutboundHeader Allocate(OutboundKind kind, DateTimeOffset now)
    {
        long msgId = MsgIds.NextServer(_serverLast, now, (kind & OutboundKind.Response) != 0);
        _serverLast = msgId;
        if (msgId > _serverReserve) _serverReserve = msgId + _reservation;
        int seqNo = SeqNoRules.NextServerSeqNo(ref _contentSent, (kind & OutboundKind.ContentRelated) != 0);
        return new OutboundHeader(msgId, seqNo);
    }

    /// <summary>
    /// Extends the server msg_id reservation over a whole reservation period from <paramref name="now"/>, so that a
    /// row written now (a new session's first) already covers the ids of the answers computed after it.
    /// </summary>
    public void ReserveServerIds(DateTimeOffset now)
    {
        long upTo = Math.Max(_serverLast, MsgIds.FromTime(now)) + _reservation;
        if (upTo > _serverReserve) _serverReserve = upTo;
    }

    /// <summary>
    /// The row to write. <paramref name="final"/>: the activation is ending cleanly, so everything it
    /// accepted is in the window and every id it sent is below <see cref="LastServerMsgId"/>: the
    /// reservations are released (exact values are written).
    /// </summary>
    public SessionState Snapshot(bool final)
    {
        ReceivedMsgWindowState window = _window.ToState();
        return new SessionState
        {
            UniqueId = _uniqueId,
            CreatedAt = _createdAt,
            LastActivityAt = _lastActivityAt,
            FirstMsgId = _firstMsgId,
            RecentClientMsgIds = window.MsgIds,
            RecentClientSeqNos = window.SeqNos,
            ClientFloorMsgId = window.FloorMsgId,
            ClientFloorSeqNo = window.FloorSeqNo,
            ClientHighWater = _window.HighWater,
            ClientUnknownUpTo = _window.UnknownUpTo,
            ClientReservedUpTo = final ? 0 : _clientReserve,
            ServerLastMsgId = _serverLast,
            ServerReservedUpTo = final ? _serverLast : _serverReserve,
            ContentMessagesSent = _contentSent,
            Layer = _layer,
            Connection = _connection,
            Unacked = final ? [.. _outbox.All] : [],
            Answers = final
                ? [.. _queries.Values.Where(q => !q.Running && q.AnswerMsgId != 0).Select(q => new AnsweredQuery
                {
                    ReqMsgId = q.ReqMsgId, AnswerMsgId = q.AnswerMsgId, AnswerSeqNo = q.AnswerSeqNo, AnswerBytes = q.AnswerBytes, Acked = q.Acked,
                })]
                : [],
        };
    }

    /// <summary>Records that <paramref name="written"/> is now the row in storage.</summary>
    public void Persisted(SessionState written)
    {
        _durableClientReserved = written.ClientReservedUpTo;
        _durableServerReserved = written.ServerReservedUpTo;
    }

    private static long NewUniqueId()
    {
        Span<byte> b = stackalloc byte[8];
        RandomNumberGenerator.Fill(b);
        return BinaryPrimitives.ReadInt64LittleEndian(b);
    }
}
