using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Tl;

public class TlCodecTests
{
    private static byte[] Write(Action<TlWriter> write)
    {
        using var w = new TlWriter(4);
        write(w);
        return w.ToArray();
    }

    [Fact]
    public void Integers_are_little_endian_and_round_trip()
    {
        var bytes = Write(w =>
        {
            w.WriteInt32(-2);
            w.WriteUInt32(0x7abe77ec);
            w.WriteInt64(0x0102030405060708);
            w.WriteDouble(1.5);
            w.WriteBool(true);
            w.WriteBool(false);
        });
        Assert.Equal("FEFFFFFF" + "EC77BE7A" + "0807060504030201" + "000000000000F83F" + "B5757299" + "379779BC", Convert.ToHexString(bytes));
        var r = new TlReader(bytes);
        Assert.Equal(-2, r.ReadInt32());
        Assert.Equal(0x7abe77ecu, r.ReadUInt32());
        Assert.Equal(0x0102030405060708, r.ReadInt64());
        Assert.Equal(1.5, r.ReadDouble());
        Assert.True(r.ReadBool());
        Assert.False(r.ReadBool());
        Assert.True(r.Ok);
        Assert.True(r.AtEnd);
    }

    [Fact]
    public void Int128_and_int256_are_raw_bytes()
    {
        var a = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        var b = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();
        var bytes = Write(w =>
        {
            w.WriteInt128(a);
            w.WriteInt256(b);
        });
        Assert.Equal(a.Concat(b), bytes);
        var r = new TlReader(bytes);
        Assert.Equal(a, r.ReadInt128().ToArray());
        Assert.Equal(b, r.ReadInt256().ToArray());
        Assert.True(r.Ok && r.AtEnd);
        using var w = new TlWriter();
        Assert.Throws<ArgumentException>(() => w.WriteInt128(new byte[15]));
        Assert.Throws<ArgumentException>(() => w.WriteInt256(new byte[33]));
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(1, 4)]
    [InlineData(3, 4)]
    [InlineData(4, 8)]
    [InlineData(8, 12)] // the 8-byte pq of the handshake sample
    [InlineData(252, 256)]
    [InlineData(253, 256)] // the longest short form
    [InlineData(254, 260)] // the shortest long form
    [InlineData(255, 260)]
    [InlineData(256, 260)] // the 256-byte g_b of the handshake sample
    [InlineData(257, 264)]
    [InlineData(70000, 70004)]
    public void Bytes_use_both_length_forms_and_pad_to_4(int length, int expectedTotal)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)(i * 7 + 1)).ToArray();
        var bytes = Write(w => w.WriteBytes(data));
        Assert.Equal(expectedTotal, bytes.Length);
        if (length <= 253)
        {
            Assert.Equal(length, bytes[0]);
        }
        else
        {
            Assert.Equal(0xfe, bytes[0]);
            Assert.Equal(length, bytes[1] | (bytes[2] << 8) | (bytes[3] << 16));
        }
        int header = length <= 253 ? 1 : 4;
        Assert.All(bytes.Skip(header + length), b => Assert.Equal(0, b));
        var r = new TlReader(bytes);
        Assert.Equal(data, r.ReadBytes().ToArray());
        Assert.True(r.Ok);
        Assert.True(r.AtEnd);
    }

    [Fact]
    public void Strings_round_trip_as_utf8()
    {
        string s = "Привет, 世界 🙂";
        var bytes = Write(w => w.WriteString(s));
        var r = new TlReader(bytes);
        Assert.Equal(s, r.ReadString());
        Assert.True(r.Ok && r.AtEnd);
        string longString = new string('x', 600) + "é";
        bytes = Write(w => w.WriteString(longString));
        r = new TlReader(bytes);
        Assert.Equal(longString, r.ReadString());
    }

    [Fact]
    public void Prefix_0xff_is_rejected()
    {
        var r = new TlReader([0xff, 0, 0, 0, 1, 2, 3, 4]);
        Assert.True(r.ReadBytes().IsEmpty);
        Assert.Equal(TlError.BadLengthPrefix, r.Error);
    }

    [Fact]
    public void Long_form_length_beyond_the_data_is_a_bad_length_without_allocation()
    {
        var r = new TlReader([0xfe, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
        Assert.True(r.ReadBytes().IsEmpty);
        Assert.Equal(TlError.BadLength, r.Error);
        r = new TlReader([0xfe, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
        Assert.Empty(r.ReadBytesArray());
        Assert.Equal(TlError.BadLength, r.Error);
    }

    [Fact]
    public void Short_form_length_beyond_the_data_is_a_bad_length()
    {
        var r = new TlReader([5, 1, 2, 3]);
        r.ReadBytes();
        Assert.Equal(TlError.BadLength, r.Error);
    }

    [Fact]
    public void Missing_padding_is_truncation()
    {
        var r = new TlReader([2, 1, 2]); // needs one pad byte
        r.ReadBytes();
        Assert.Equal(TlError.Truncated, r.Error);
    }

    [Fact]
    public void Bytes_truncated_at_every_offset_fail_without_throwing()
    {
        foreach (int length in new[] { 5, 253, 254, 300 })
        {
            var full = Write(w => w.WriteBytes(new byte[length]));
            for (int cut = 0; cut < full.Length; cut++)
            {
                var r = new TlReader(full.AsSpan(0, cut));
                r.ReadBytes();
                Assert.False(r.Ok, $"length {length} cut {cut}");
                Assert.True(r.Error is TlError.Truncated or TlError.BadLength);
            }
        }
    }

    [Fact]
    public void Errors_are_sticky_and_later_reads_return_defaults()
    {
        var r = new TlReader([1, 2]);
        Assert.Equal(0, r.ReadInt32());
        Assert.Equal(TlError.Truncated, r.Error);
        Assert.Equal(0L, r.ReadInt64());
        Assert.Equal(string.Empty, r.ReadString());
        Assert.False(r.ReadBool());
        r.Fail(TlError.BadBool);
        Assert.Equal(TlError.Truncated, r.Error); // the first error wins
    }

    [Fact]
    public void Bad_bool_and_vector_headers_are_typed_errors()
    {
        var r = new TlReader([1, 2, 3, 4]);
        r.ReadBool();
        Assert.Equal(TlError.BadBool, r.Error);
        r = new TlReader([1, 2, 3, 4, 0, 0, 0, 0]);
        r.ReadVectorHeader(8);
        Assert.Equal(TlError.BadVectorHeader, r.Error);
    }

    [Fact]
    public void Huge_vector_counts_fail_before_allocating()
    {
        var bytes = Write(w =>
        {
            w.WriteVectorHeader(int.MaxValue);
            w.WriteInt64(1);
        });
        var r = new TlReader(bytes);
        Assert.Empty(r.ReadLongVector());
        Assert.Equal(TlError.BadLength, r.Error);
        bytes = Write(w => w.WriteVectorHeader(-1));
        r = new TlReader(bytes);
        r.ReadVectorHeader(8);
        Assert.Equal(TlError.BadLength, r.Error);
        r = new TlReader(Write(w => w.WriteInt32(3)));
        r.ReadBareVectorCount(16);
        Assert.Equal(TlError.BadLength, r.Error);
    }

    [Fact]
    public void Long_vectors_round_trip()
    {
        long[] values = [1, -1, long.MaxValue, long.MinValue, 0];
        var bytes = Write(w => w.WriteLongVector(values));
        Assert.Equal(8 + 8 * values.Length, bytes.Length);
        var r = new TlReader(bytes);
        Assert.Equal(values, r.ReadLongVector());
        Assert.True(r.Ok && r.AtEnd);
    }

    [Fact]
    public void ExpectConstructor_and_ExpectEnd()
    {
        var r = new TlReader([0xec, 0x77, 0xbe, 0x7a, 0]);
        Assert.True(r.ExpectConstructor(0x7abe77ec));
        r.ExpectEnd();
        Assert.Equal(TlError.TrailingData, r.Error);
        r = new TlReader([0xec, 0x77, 0xbe, 0x7a]);
        Assert.False(r.ExpectConstructor(0x347773c5));
        Assert.Equal(TlError.UnexpectedConstructor, r.Error);
    }

    [Fact]
    public void Property_random_byte_strings_round_trip()
    {
        var random = new Random(20240601);
        using var w = new TlWriter();
        var items = new List<byte[]>();
        for (int i = 0; i < 300; i++)
        {
            int length = random.Next(4) switch { 0 => random.Next(0, 4), 1 => random.Next(250, 260), _ => random.Next(0, 2000) };
            var data = new byte[length];
            random.NextBytes(data);
            items.Add(data);
            w.WriteBytes(data);
            Assert.Equal(0, w.Length % 4);
        }
        var r = new TlReader(w.WrittenSpan);
        foreach (var item in items) Assert.Equal(item, r.ReadBytes().ToArray());
        Assert.True(r.Ok && r.AtEnd);
    }
}
