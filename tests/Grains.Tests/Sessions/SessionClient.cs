using System.Buffers.Binary;
using System.Collections.Immutable;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Grains.Tests.Sessions;

/// <summary>
/// A client of one session at the grain level: builds plaintext frames with the src/Protocol writers (no encryption at
/// this layer), numbers them like a well-behaved client (msg_id % 4 == 0, increasing; seq_no from its own counter) and
/// calls <see cref="ISessionGrain.ProcessFrame"/> directly. Every answer is checked against the server-side numbering
/// rules before a test sees it (<see cref="Reply"/>).
/// </summary>
internal sealed class SessionClient(SharedCluster cluster, long authKeyId, long sessionId, long salt)
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private long _lastMsgId;
    private int _contentSent;

    public SharedCluster Cluster { get; } = cluster;
    public long AuthKeyId { get; } = authKeyId;
    public long SessionId { get; } = sessionId;
    public long Salt { get; set; } = salt;
    public long ConnectionId { get; set; } = 1;
    public ISessionGrain Grain => Cluster.Grains.GetSessionGrain(AuthKeyId, SessionId);

    /// <summary>A new key and a first session of it.</summary>
    public static async Task<SessionClient> CreateAsync(SharedCluster cluster)
    {
        var (authKeyId, salt) = await TestData.RegisterKeyAsync(cluster.Grains);
        return new SessionClient(cluster, authKeyId, TestData.NewSessionId(), salt);
    }

    /// <summary>Another session of the same key.</summary>
    public SessionClient OtherSession() => new(Cluster, AuthKeyId, TestData.NewSessionId(), Salt);

    public long NextMsgId()
    {
        long now = TestData.ClientMsgId(Cluster.Clock.GetUtcNow());
        _lastMsgId = Math.Max(_lastMsgId + 4, now);
        return _lastMsgId;
    }

    public int NextSeqNo(bool contentRelated) => SeqNoRules.NextServerSeqNo(ref _contentSent, contentRelated);

    /// <summary>Sends one message (numbered by this client unless given).</summary>
    public Task<Reply> SendAsync(byte[] body, bool contentRelated, long? msgId = null, int? seqNo = null, long? salt = null)
    {
        long id = msgId ?? NextMsgId();
        int seq = seqNo ?? NextSeqNo(contentRelated);
        return SendFrameAsync(new IncomingFrame(salt ?? Salt, id, seq, body, ConnectionId));
    }

    public Task<Reply> SendAsync(TlObject body, bool contentRelated = false) => SendAsync(body.ToBytes(), contentRelated);

    /// <summary>A message of a container: its body and whether it is content-related; ids and seq_nos are assigned in order.</summary>
    public sealed record Item(byte[] Body, bool ContentRelated)
    {
        public long MsgId { get; set; }
        public int SeqNo { get; set; }
    }

    public static Item Q(byte[] body) => new(body, true);
    public static Item S(TlObject body) => new(body.ToBytes(), false);

    /// <summary>Sends the items in one msg_container numbered after them.</summary>
    public Task<Reply> SendContainerAsync(params Item[] items)
    {
        foreach (Item item in items)
        {
            item.MsgId = NextMsgId();
            item.SeqNo = NextSeqNo(item.ContentRelated);
        }
        return SendFrameAsync(BuildContainer(NextMsgId(), NextSeqNo(false), items));
    }

    public IncomingFrame BuildContainer(long msgId, int seqNo, IEnumerable<Item> items)
    {
        Item[] list = [.. items];
        using var writer = new TlWriter();
        MsgContainer.WriteHeader(writer, list.Length);
        foreach (Item item in list) MsgContainer.WriteItem(writer, item.MsgId, item.SeqNo, item.Body);
        return new IncomingFrame(Salt, msgId, seqNo, writer.ToArray(), ConnectionId);
    }

    public async Task<Reply> SendFrameAsync(IncomingFrame frame)
    {
        FrameResult result = await Grain.ProcessFrame(frame).WaitAsync(Bound);
        return new Reply(result);
    }

    /// <summary>An API query: a constructor id and a payload (TL bytes).</summary>
    public static byte[] Query(uint constructorId, ReadOnlySpan<byte> payload = default)
    {
        using var writer = new TlWriter();
        writer.WriteUInt32(constructorId);
        writer.WriteBytes(payload);
        return writer.ToArray();
    }

    /// <summary>mtactors.echo with a payload of <paramref name="size"/> bytes.</summary>
    public static byte[] Echo(int size = 8) => Query(MtProtoTestMethods.Echo, new byte[size]);

    /// <summary>mtactors.sleep(milliseconds).</summary>
    public static byte[] Sleep(int milliseconds)
    {
        var body = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(body, MtProtoTestMethods.Sleep);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(4), milliseconds);
        return body;
    }

    public static byte[] Wrap(Action<TlWriter> header, byte[] inner)
    {
        using var writer = new TlWriter();
        header(writer);
        writer.WriteRaw(inner);
        return writer.ToArray();
    }

    public static byte[] Gzip(byte[] inner)
    {
        using var writer = new TlWriter();
        GzipPacked.Write(writer, inner);
        return writer.ToArray();
    }
}

/// <summary>One message the server sent, containers flattened.</summary>
internal sealed record Received(long MsgId, int SeqNo, byte[] Body, bool InContainer)
{
    public uint ConstructorId => BinaryPrimitives.ReadUInt32LittleEndian(Body);

    public TlObject Object
    {
        get
        {
            Assert.True(ServiceSchema.TryRead(Body, out TlObject? value, out TlError error), $"unreadable {ConstructorId:x8}: {error}");
            return value;
        }
    }
}

/// <summary>A <see cref="FrameResult"/>, checked against the server's numbering rules and flattened.</summary>
internal sealed class Reply
{
    public Reply(FrameResult result)
    {
        Result = result;
        var messages = new List<Received>();
        foreach (OutgoingMessage frame in result.Messages)
        {
            Assert.True((frame.MsgId & 1) == 1, "server msg_ids are odd");
            if (BinaryPrimitives.ReadUInt32LittleEndian(frame.Body) != ConstructorIds.MsgContainer)
            {
                messages.Add(new Received(frame.MsgId, frame.SeqNo, frame.Body, false));
                continue;
            }
            Assert.Equal(0, frame.SeqNo & 1); // a container is not content-related
            var r = new TlReader(frame.Body);
            Assert.True(MsgContainer.TryReadHeader(ref r, out int count));
            Assert.InRange(count, 1, MsgContainer.MaxItems);
            for (int i = 0; i < count; i++)
            {
                Assert.True(MsgContainer.TryReadItem(ref r, out ContainerItem item));
                Assert.True(item.MsgId < frame.MsgId, "container msg_id above its items'");
                Assert.True(item.SeqNo <= frame.SeqNo, "container seq_no not below its items'");
                Assert.True((item.MsgId & 1) == 1, "server msg_ids are odd");
                messages.Add(new Received(item.MsgId, item.SeqNo, item.Body.ToArray(), true));
            }
            Assert.True(r.AtEnd);
        }
        foreach (Received m in messages)
        {
            // rpc_result and new_session_created are content-related (odd seq_no); the service answers are not.
            Assert.Equal(ContentRelation.IsContentRelatedFromServer(m.ConstructorId), (m.SeqNo & 1) == 1);
        }
        Messages = messages;
    }

    public FrameResult Result { get; }
    public IReadOnlyList<Received> Messages { get; }

    public IEnumerable<T> All<T>() where T : TlObject => Messages.Select(m => m.Object).OfType<T>();

    public T Single<T>() where T : TlObject => Assert.Single(All<T>());

    public bool None<T>() where T : TlObject => !All<T>().Any();

    /// <summary>The rpc_result answering <paramref name="reqMsgId"/>: its result object's bytes.</summary>
    public byte[] ResultOf(long reqMsgId) => Assert.Single(All<RpcResult>(), r => r.ReqMsgId == reqMsgId).Result.ToArray();

    public RpcError ErrorOf(long reqMsgId)
    {
        Assert.True(ServiceSchema.TryRead(ResultOf(reqMsgId), out TlObject? value, out _));
        return Assert.IsType<RpcError>(value);
    }

    public TlObject ServiceResultOf(long reqMsgId)
    {
        Assert.True(ServiceSchema.TryRead(ResultOf(reqMsgId), out TlObject? value, out TlError error), error.ToString());
        return value;
    }

    public BadMsgNotification BadMsg() => Single<BadMsgNotification>();

    public ImmutableArray<long> MsgIds => [.. Messages.Select(m => m.MsgId)];
}
