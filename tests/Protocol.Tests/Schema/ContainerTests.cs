using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Schema;

public class ContainerTests
{
    private static byte[] Container(int count, Action<TlWriter> items)
    {
        using var w = new TlWriter();
        MsgContainer.WriteHeader(w, count);
        items(w);
        return w.ToArray();
    }

    private static TlError ReadAll(byte[] bytes)
    {
        var r = new TlReader(bytes);
        if (!MsgContainer.TryReadHeader(ref r, out int count)) return r.Error;
        for (int i = 0; i < count; i++)
        {
            if (!MsgContainer.TryReadItem(ref r, out _)) return r.Error;
        }
        return r.Error;
    }

    [Fact]
    public void Items_are_slices_of_the_input()
    {
        var bytes = Container(2, w =>
        {
            MsgContainer.WriteItem(w, 100, 1, Samples.PingBody);
            MsgContainer.WriteItem(w, 104, 2, new MsgsAck([7]).ToBytes());
        });
        var r = new TlReader(bytes);
        Assert.True(MsgContainer.TryReadHeader(ref r, out int count));
        Assert.Equal(2, count);
        Assert.True(MsgContainer.TryReadItem(ref r, out var item));
        Assert.Equal(100, item.MsgId);
        Assert.Equal(1, item.SeqNo);
        Assert.Equal(ConstructorIds.Ping, item.BodyConstructorId);
        Assert.True(item.Body.SequenceEqual(Samples.PingBody));
        Assert.True(MsgContainer.TryReadItem(ref r, out item));
        Assert.Equal(ConstructorIds.MsgsAck, item.BodyConstructorId);
        Assert.True(r.AtEnd);
    }

    [Fact]
    public void More_than_1024_items_is_too_many()
    {
        var bytes = Container(MsgContainer.MaxItems + 1, w =>
        {
            for (int i = 0; i <= MsgContainer.MaxItems; i++) MsgContainer.WriteItem(w, 4 * i, 0, Samples.PingBody);
        });
        Assert.Equal(TlError.TooManyItems, ReadAll(bytes));
        bytes = Container(MsgContainer.MaxItems, w =>
        {
            for (int i = 0; i < MsgContainer.MaxItems; i++) MsgContainer.WriteItem(w, 4 * i, 0, Samples.PingBody);
        });
        Assert.Equal(TlError.None, ReadAll(bytes));
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1000)]
    [InlineData(-1)]
    public void Counts_that_cannot_fit_fail_before_allocating(int count)
    {
        var bytes = Container(count, w => MsgContainer.WriteItem(w, 4, 0, Samples.PingBody));
        Assert.NotEqual(TlError.None, ReadAll(bytes));
        Assert.False(ServiceSchema.TryRead(bytes, out _, out var error));
        Assert.True(error is TlError.BadLength or TlError.TooManyItems);
    }

    [Theory]
    [InlineData(10, TlError.InvalidValue)] // not a multiple of 4
    [InlineData(0, TlError.InvalidValue)] // no room for a constructor id
    [InlineData(16, TlError.BadLength)] // more than is there
    [InlineData(-4, TlError.BadLength)]
    [InlineData(int.MaxValue - 3, TlError.BadLength)]
    public void Item_lengths_must_be_a_positive_multiple_of_4_within_bounds(int declared, TlError expected)
    {
        var bytes = Container(1, w =>
        {
            w.WriteInt64(4);
            w.WriteInt32(1);
            w.WriteInt32(declared);
            w.WriteRaw(Samples.PingBody); // 12 bytes present
        });
        Assert.Equal(expected, ReadAll(bytes));
    }

    [Fact]
    public void Truncated_containers_fail_at_every_offset()
    {
        var bytes = new MsgContainer([new ContainerMessage(4, 1, [.. Samples.PingBody]), new ContainerMessage(8, 2, [.. Samples.PingBody])]).ToBytes();
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            var error = ReadAll(bytes[..cut]);
            Assert.True(error is TlError.Truncated or TlError.BadLength, $"cut {cut}: {error}");
        }
    }

    [Fact]
    public void Msg_copy_holds_a_boxed_message()
    {
        var copy = new MsgCopy(new ContainerMessage(0x40, 5, [.. Samples.PingBody]));
        var bytes = copy.ToBytes();
        Assert.Equal("B24660E0" + "11E5B85B", Convert.ToHexString(bytes, 0, 8));
        var r = new TlReader(bytes);
        r.ReadUInt32();
        Assert.True(MsgCopy.TryReadMessage(ref r, out var item));
        Assert.Equal(0x40, item.MsgId);
        Assert.Equal(5, item.SeqNo);
        Assert.Equal(ConstructorIds.Ping, item.BodyConstructorId);
    }
}
