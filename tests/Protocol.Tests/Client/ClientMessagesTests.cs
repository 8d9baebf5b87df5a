using System.Buffers.Binary;
using MtActors.Protocol.Client;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Client;

public sealed class ClientMessagesTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Container_round_trips_and_is_what_the_server_rules_accept()
    {
        var items = new[]
        {
            new OutgoingMessage(0x6000000000000004, 0, new Ping(1).ToBytes()),
            new OutgoingMessage(0x6000000000000008, 1, ClientMessages.EchoQuery([1, 2, 3, 4, 5])),
        };
        var body = ClientMessages.BuildContainer(items);
        Assert.True(ClientMessages.TryReadContainer(body, out var parsed, out var error));
        Assert.Equal(TlError.None, error);
        Assert.Equal(items.Length, parsed.Count);
        for (int i = 0; i < items.Length; i++)
        {
            Assert.Equal(items[i].MsgId, parsed[i].MsgId);
            Assert.Equal(items[i].SeqNo, parsed[i].SeqNo);
            Assert.Equal(items[i].Body.ToArray(), parsed[i].Body.ToArray());
        }
        Assert.Equal(BadMsgCode.None, ContainerRules.Validate(0x600000000000000C, 2, body));
        // Same bytes as the schema's writer.
        Assert.Equal(new MsgContainer([.. items.Select(m => new ContainerMessage(m.MsgId, m.SeqNo, [.. m.Body.ToArray()]))]).ToBytes(), body);
    }

    [Fact]
    public void Malformed_containers_are_refused()
    {
        var body = ClientMessages.BuildContainer([new OutgoingMessage(4, 0, new Ping(1).ToBytes())]);
        Assert.False(ClientMessages.TryReadContainer(body.AsMemory(0, body.Length - 4), out var items, out var error));
        Assert.Empty(items);
        Assert.NotEqual(TlError.None, error);
        var trailing = body.Concat(new byte[4]).ToArray();
        Assert.False(ClientMessages.TryReadContainer(trailing, out _, out error));
        Assert.Equal(TlError.TrailingData, error);
        var badLength = (byte[])body.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(badLength.AsSpan(8 + 12), 6);
        Assert.False(ClientMessages.TryReadContainer(badLength, out _, out _));
        Assert.False(ClientMessages.TryReadContainer(new Ping(1).ToBytes(), out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientMessages.BuildContainer([]));
    }

    [Fact]
    public void Rpc_results_plain_gzip_and_error()
    {
        var result = ClientMessages.EchoQuery(new byte[300]);
        using (var w = new TlWriter())
        {
            RpcResult.Write(w, 1234, result);
            Assert.True(ClientMessages.TryReadRpcResult(w.ToArray(), out var req, out var r, out var e));
            Assert.Equal(1234, req);
            Assert.Equal(result, r.ToArray());
            Assert.Null(e);
        }
        using (var w = new TlWriter())
        {
            RpcResult.WriteHeader(w, 99);
            GzipPacked.Write(w, result);
            Assert.True(ClientMessages.TryReadRpcResult(w.ToArray(), out var req, out var r, out _));
            Assert.Equal(99, req);
            Assert.Equal(result, r.ToArray());
        }
        using (var w = new TlWriter())
        {
            RpcResult.Write(w, 5, new RpcError(420, "FLOOD_WAIT_3").ToBytes());
            Assert.True(ClientMessages.TryReadRpcResult(w.ToArray(), out _, out var r, out var e));
            Assert.True(r.IsEmpty);
            Assert.Equal(new RpcError(420, "FLOOD_WAIT_3"), e);
        }
        using (var w = new TlWriter())
        {
            RpcResult.WriteHeader(w, 5);
            w.WriteUInt32(ConstructorIds.GzipPacked);
            w.WriteBytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
            Assert.False(ClientMessages.TryReadRpcResult(w.ToArray(), out _, out _, out _)); // not gzip
        }
        Assert.False(ClientMessages.TryReadRpcResult(new Ping(1).ToBytes(), out _, out _, out _));
    }

    [Fact]
    public void Client_msg_ids_are_time_based_divisible_by_4_and_rising()
    {
        var t = new FixedTime(new DateTimeOffset(2025, 5, 1, 0, 0, 0, TimeSpan.Zero));
        var ids = new ClientMsgIds(t);
        long previous = 0;
        for (int i = 0; i < 1000; i++)
        {
            long id = ids.Next();
            Assert.Equal(0, id & 3);
            Assert.True(id > previous);
            Assert.NotEqual(0, id & 0xFFFFFFFF);
            Assert.Equal(t.Now.ToUnixTimeSeconds(), MsgIds.Seconds(id));
            previous = id;
        }
        // A server msg_id 100 s ahead moves the clock; ids restart from the corrected time.
        long server = MsgIds.NextServer(0, t.Now.AddSeconds(100), isResponse: false);
        ids.SyncTo(server);
        Assert.InRange(ids.Offset.TotalSeconds, 99.9, 100.1);
        long next = ids.Next();
        Assert.Equal(t.Now.ToUnixTimeSeconds() + 100, MsgIds.Seconds(next));
        // Behind: ids go back in time after a sync (the refused ones were never kept).
        ids.SyncTo(MsgIds.NextServer(0, t.Now.AddSeconds(-50), false));
        Assert.Equal(t.Now.ToUnixTimeSeconds() - 50, MsgIds.Seconds(ids.Next()));
        Assert.Equal(BadMsgCode.None, MsgIdRules.Check(ids.Next(), t.Now.AddSeconds(-50)));
    }

    [Fact]
    public void Seq_nos_follow_the_content_rule()
    {
        var s = new ClientSeqNo();
        Assert.Equal(0, s.Next(false));
        Assert.Equal(1, s.Next(true));
        Assert.Equal(3, s.Next(true));
        Assert.Equal(4, s.Next(false));
        Assert.Equal(4, s.Next(false));
        Assert.Equal(5, s.Next(true));
        Assert.Equal(3, s.ContentCount);
    }

    [Fact]
    public void Received_message_helpers()
    {
        var m = new ReceivedMessage(0x600000000000001, 3, 7, 8, new Pong(4, 5).ToBytes(), null);
        Assert.Equal(ConstructorIds.Pong, m.ConstructorId);
        Assert.True(m.IsContentRelated);
        Assert.Equal(new Pong(4, 5), m.TryParse());
        Assert.Null(new ReceivedMessage(1, 0, 0, 0, new byte[] { 1, 2, 3, 4 }, null).TryParse());
        Assert.Equal(0u, new ReceivedMessage(1, 0, 0, 0, new byte[] { 1 }, null).ConstructorId);
    }
}
