using System.Collections.Immutable;
using MtActors.Grains.Api;
using MtActors.Protocol.Schema;

namespace MtActors.Grains.Sessions;

/// <summary>
/// One frame between <see cref="SessionCore.BeginFrame"/> and <see cref="SessionCore.CompleteFrame"/>: the messages
/// to send (in order, some still to be filled in) and the calls the grain must make first (API handlers,
/// destroy_session, destroy_auth_key), outside its state lock.
/// </summary>
public sealed class FramePlan
{
    internal FramePlan(SessionCore core, long salt)
    {
        Core = core;
        Salt = salt;
    }

    /// <summary>The session state the plan belongs to (a destroyed session is replaced by a new core: complete on this one).</summary>
    public SessionCore Core { get; }

    /// <summary>The current salt (for the internal header of the answers).</summary>
    public long Salt { get; }

    /// <summary>This frame created the session (the key's session set must list it before the answer).</summary>
    public bool Created { get; internal set; }

    /// <summary>&gt; 0: ping_delay_disconnect asked for this close timer.</summary>
    public int DisconnectDelaySeconds { get; internal set; }

    /// <summary>destroy_auth_key ended the key: close the connection after sending.</summary>
    public bool CloseAfterSend { get; internal set; }

    /// <summary>The calls to make before <see cref="SessionCore.CompleteFrame"/>, in message order.</summary>
    public IReadOnlyList<PendingCall> Calls => (IReadOnlyList<PendingCall>?)_calls ?? [];

    // A ping's frame has one message and none of the rest: the other lists exist only once something is added.
    private List<PendingCall>? _calls;
    private List<UnackedMessage>? _resends;
    private List<long>? _ackIds;
    private List<bool>? _destroySessionAnswers;

    internal List<PendingCall> CallList => _calls ??= [];
    internal int CallCount => _calls?.Count ?? 0;
    internal List<PlannedMessage> Messages { get; } = new(2);
    internal List<UnackedMessage> Resends => _resends ??= [];
    internal bool HasResends => _resends is { Count: > 0 };
    internal List<long> AckIds => _ackIds ??= [];
    internal bool HasAckIds => _ackIds is { Count: > 0 };
    internal bool NewConnection { get; set; }

    /// <summary>destroy_session answers of this frame (true: ok), for metrics.</summary>
    public IReadOnlyList<bool> DestroySessionAnswers => (IReadOnlyList<bool>?)_destroySessionAnswers ?? [];

    internal List<bool> DestroySessionList => _destroySessionAnswers ??= [];

    internal PlannedMessage Add(TlObject? body, bool contentRelated = false, long answers = 0, int badMsgCode = 0)
    {
        var message = new PlannedMessage { Body = body?.ToBytes(), ContentRelated = contentRelated, AnswersMsgId = answers, BadMsgCode = badMsgCode };
        Messages.Add(message);
        return message;
    }
}

/// <summary>A message the frame will send; its header is allocated when the frame completes.</summary>
internal sealed class PlannedMessage
{
    /// <summary>The boxed body; null: not sent (a placeholder that was never filled).</summary>
    public byte[]? Body;
    public bool ContentRelated;
    /// <summary>For an rpc_result: the client msg_id it answers (the session records where the answer went).</summary>
    public long AnswersMsgId;
    public int BadMsgCode;
}

/// <summary>Work the grain does between the two halves of a frame.</summary>
public abstract class PendingCall
{
    private protected PendingCall(long msgId) => MsgId = msgId;

    /// <summary>The client msg_id of the request.</summary>
    public long MsgId { get; }
}

/// <summary>An API query for an <see cref="IMtProtoApiHandler"/>: fill <see cref="Result"/>.</summary>
public sealed class ApiCall : PendingCall
{
    internal ApiCall(long msgId, ApiRequest request, ImmutableArray<long> invokeAfter, QueryRecord record, PlannedMessage output) : base(msgId)
    {
        Request = request;
        InvokeAfter = invokeAfter;
        Record = record;
        Output = output;
    }

    public ApiRequest Request { get; }

    /// <summary>invokeAfterMsg(s): queries that must complete first.</summary>
    public ImmutableArray<long> InvokeAfter { get; }

    /// <summary>Cancelled by rpc_drop_answer for this query.</summary>
    public CancellationToken Dropped => Record.Cancel?.Token ?? CancellationToken.None;

    public ApiResult Result { get; set; } = RpcErrors.Internal;

    internal QueryRecord Record { get; }
    internal PlannedMessage Output { get; }
}

/// <summary>destroy_session for another session of the key: fill <see cref="Existed"/>.</summary>
public sealed class DestroySessionCall : PendingCall
{
    internal DestroySessionCall(long msgId, long sessionId, PlannedMessage? bare, PlannedMessage? wrapped) : base(msgId)
    {
        SessionId = sessionId;
        Bare = bare;
        Wrapped = wrapped;
    }

    public long SessionId { get; }
    public bool Existed { get; set; }
    internal PlannedMessage? Bare { get; }
    internal PlannedMessage? Wrapped { get; }
}

/// <summary>destroy_auth_key: fill <see cref="Outcome"/>.</summary>
public sealed class DestroyAuthKeyCall : PendingCall
{
    internal DestroyAuthKeyCall(long msgId, PlannedMessage? bare, PlannedMessage? wrapped) : base(msgId)
    {
        Bare = bare;
        Wrapped = wrapped;
    }

    public DestroyAuthKeyResult Outcome { get; set; } = DestroyAuthKeyResult.Fail;
    internal PlannedMessage? Bare { get; }
    internal PlannedMessage? Wrapped { get; }
}

/// <summary>What the session knows about one query (an API call or another message answered with rpc_result).</summary>
public sealed class QueryRecord
{
    internal QueryRecord(long reqMsgId, bool running)
    {
        ReqMsgId = reqMsgId;
        Running = running;
        if (!running) return;
        Cancel = new CancellationTokenSource();
        Done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public long ReqMsgId { get; }
    /// <summary>The handler has not finished yet.</summary>
    public bool Running { get; internal set; }
    /// <summary>rpc_drop_answer arrived while it was running: the answer is rpc_answer_dropped_running.</summary>
    public bool DropRequested { get; internal set; }
    public long AnswerMsgId { get; internal set; }
    public int AnswerSeqNo { get; internal set; }
    public int AnswerBytes { get; internal set; }
    /// <summary>The client acknowledged the answer (or dropped it).</summary>
    public bool Acked { get; internal set; }

    /// <summary>For a running API call: cancelled by rpc_drop_answer.</summary>
    internal CancellationTokenSource? Cancel { get; }
    /// <summary>Completes when the answer is allocated (invokeAfterMsg from a later frame waits for it).</summary>
    internal TaskCompletionSource? Done { get; }
}
