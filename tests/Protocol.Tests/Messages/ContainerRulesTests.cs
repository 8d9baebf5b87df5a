using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Messages;

public class ContainerRulesTests
{
    private const long ContainerId = 0x65ABC0FC00000100;
    private static readonly byte[] Ping = new Ping(1).ToBytes();
    private static readonly byte[] Ack = new MsgsAck([5]).ToBytes();

    private static byte[] Build(params (long MsgId, int SeqNo, byte[] Body)[] items)
    {
        using var w = new TlWriter();
        MsgContainer.WriteHeader(w, items.Length);
        foreach (var (msgId, seqNo, body) in items) MsgContainer.WriteItem(w, msgId, seqNo, body);
        return w.ToArray();
    }

    [Fact]
    public void A_well_formed_container_is_valid()
    {
        var body = Build((ContainerId - 8, 1, Ping), (ContainerId - 4, 2, Ack));
        Assert.Equal(BadMsgCode.None, ContainerRules.Validate(ContainerId, 2, body));
        Assert.Equal(BadMsgCode.None, ContainerRules.Validate(ContainerId, 2, Build()));
    }

    [Fact]
    public void Inner_msg_id_must_be_below_the_containers()
    {
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, Build((ContainerId, 1, Ping))));
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, Build((ContainerId + 4, 1, Ping))));
        Assert.Equal(BadMsgCode.None, ContainerRules.Validate(ContainerId, 2, Build((ContainerId - 4, 1, Ping))));
    }

    [Fact]
    public void Inner_seq_no_must_not_exceed_the_containers()
    {
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, Build((ContainerId - 4, 3, Ping))));
        Assert.Equal(BadMsgCode.None, ContainerRules.Validate(ContainerId, 3, Build((ContainerId - 4, 3, Ping)))); // equal is allowed
    }

    [Fact]
    public void Inner_msg_id_must_be_a_client_id()
    {
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, Build((ContainerId - 7, 1, Ping))));
    }

    [Fact]
    public void Nested_containers_and_copies_are_invalid()
    {
        var inner = Build((ContainerId - 12, 1, Ping));
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, Build((ContainerId - 8, 2, inner))));
        var copy = new MsgCopy(new ContainerMessage(ContainerId - 12, 1, [.. Ping])).ToBytes();
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, Build((ContainerId - 8, 2, copy))));
    }

    [Fact]
    public void More_than_1024_items_is_invalid()
    {
        var items = Enumerable.Range(0, MsgContainer.MaxItems + 1).Select(i => (ContainerId - 4L * (i + 1), 0, Ack)).ToArray();
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 0, Build(items)));
        Assert.Equal(BadMsgCode.None, ContainerRules.Validate(ContainerId, 0, Build(items[..MsgContainer.MaxItems])));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(0)]
    [InlineData(-4)]
    [InlineData(16)]
    [InlineData(int.MaxValue)]
    public void Bad_item_lengths_are_invalid(int declared)
    {
        using var w = new TlWriter();
        MsgContainer.WriteHeader(w, 1);
        w.WriteInt64(ContainerId - 4);
        w.WriteInt32(1);
        w.WriteInt32(declared);
        w.WriteRaw(Ping);
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, w.WrittenSpan));
    }

    [Fact]
    public void Malformed_containers_are_invalid_at_every_truncation_and_with_trailing_bytes()
    {
        var body = Build((ContainerId - 8, 1, Ping), (ContainerId - 4, 2, Ack));
        for (int cut = 0; cut < body.Length; cut++)
        {
            Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, body.AsSpan(0, cut)));
        }
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, [.. body, 0, 0, 0, 0]));
        Assert.Equal(BadMsgCode.InvalidContainer, ContainerRules.Validate(ContainerId, 2, Ping)); // not a container at all
    }

    [Fact]
    public void Container_msg_id_equal_to_an_earlier_one_is_19()
    {
        var window = new ReceivedMsgWindow();
        Assert.Equal(MsgIdCheck.New, window.TryAdd(ContainerId - 8, 1));
        Assert.Equal(MsgIdCheck.New, window.TryAdd(ContainerId, 2));
        Assert.Equal(BadMsgCode.ContainerMsgIdDuplicate, window.TryAdd(ContainerId, 4).ToBadMsgCode(isContainer: true));
        Assert.Equal(BadMsgCode.ContainerMsgIdDuplicate, window.TryAdd(ContainerId - 8, 4).ToBadMsgCode(isContainer: true));
    }

    [Fact]
    public void Real_server_container_shape_is_valid()
    {
        // Inner seq 1 and 2, container seq 2, container id above both (test-vectors.md §B, ids as if client ids).
        var body = Build((0x5e308b91c2c1a800, 1, new NewSessionCreated(1, 2, 3).ToBytes()), (0x5e308b91c2c1cc00, 2, new Pong(1, 2).ToBytes()));
        Assert.Equal(BadMsgCode.None, ContainerRules.Validate(0x5e308b91c2c1f000, 2, body));
    }
}
