using System.Buffers;
using System.Buffers.Binary;
using MtActors.Protocol.Transport;
using static MtActors.Protocol.Tests.Crypto.CryptoTestData;

namespace MtActors.Protocol.Tests.Transport;

/// <summary>Malformed streams end in one typed error frame, before any oversized payload is buffered.</summary>
public sealed class MalformedTransportTests
{
    private static readonly TransportOptions Small = new() { MaxPayloadLength = 1024 };

    private static ReadItem SingleError(TransportCodec codec, byte[] bytes)
    {
        var feeder = new Feeder(codec);
        feeder.Feed(bytes);
        ReadItem item = Assert.Single(feeder.Items);
        Assert.Equal(TransportFrameKind.Error, item.Kind);
        Assert.Equal(item.Error, codec.Error);
        // Faulted: more bytes produce nothing.
        feeder.Feed(new byte[100]);
        Assert.Single(feeder.Items);
        return item;
    }

    [Theory]
    [InlineData("EF7F000001")]           // abridged 0x7f form: 0x10000 words
    [InlineData("EF7FFFFFFF")]           // abridged maximum
    [InlineData("EF7F010100")]           // 257 words = 1028 bytes > 1024
    [InlineData("EEEEEEEE04040000")]     // intermediate 1028
    [InlineData("EEEEEEEEFFFFFF7F")]     // intermediate 2^31 - 1
    [InlineData("DDDDDDDD10040000")]     // padded 1040 > 1024 + 15
    [InlineData("1004000000000000")]     // full: 1040 - 12 = 1028
    [InlineData("FFFFFFFF00000000")]     // full: 4 GiB
    public void Oversized_headers_are_refused_from_the_header_alone(string hex)
    {
        using var server = new ServerTransport(Small);
        Assert.Equal(TransportError.FrameTooLarge, SingleError(server, Hex(hex)).Error);
    }

    [Theory]
    [InlineData("EF00")]
    [InlineData("EF7F000000")]
    [InlineData("EEEEEEEE00000000")]
    [InlineData("EEEEEEEE00000080")]      // quick-ack bit on an empty frame
    [InlineData("DDDDDDDD00000000")]
    public void Zero_length_frames_are_invalid(string hex)
    {
        using var server = new ServerTransport(Small);
        Assert.Equal(TransportError.InvalidLength, SingleError(server, Hex(hex)).Error);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(11u)]
    public void Full_lengths_below_12_are_invalid(uint length)
    {
        // The detector needs bytes 4..8 zero, so it sees a full connection whose first length is bad.
        byte[] bytes = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, length);
        using var server = new ServerTransport(Small);
        Assert.Equal(TransportError.InvalidLength, SingleError(server, bytes).Error);
    }

    [Fact]
    public void Largest_allowed_payload_is_accepted_and_one_more_word_is_not()
    {
        foreach (TransportKind kind in new[] { TransportKind.Abridged, TransportKind.Intermediate, TransportKind.Full })
        {
            using var client = new ClientTransport(kind);
            var writer = new ArrayBufferWriter<byte>();
            client.WriteFrame(new byte[1024], writer);
            client.WriteFrame(new byte[1028], writer);
            using var server = new ServerTransport(Small);
            var feeder = new Feeder(server);
            feeder.Feed(writer.WrittenSpan);
            Assert.Equal(2, feeder.Items.Count);
            Assert.Equal(1024, feeder.Items[0].Payload.Length);
            Assert.Equal(TransportError.FrameTooLarge, feeder.Items[1].Error);
        }
    }

    [Fact]
    public void Oversized_obfuscated_frame_is_refused_without_buffering_it()
    {
        using var client = new ClientTransport(TransportKind.Intermediate, obfuscated: true);
        var writer = new ArrayBufferWriter<byte>();
        client.WriteFrame(new byte[4096], writer);
        byte[] bytes = writer.WrittenSpan.ToArray();
        using var server = new ServerTransport(Small);
        // Only the init and the length word arrive: the error must come now, not after 4 KiB.
        Assert.Equal(TransportError.FrameTooLarge, SingleError(server, bytes[..68]).Error);
    }

    [Fact]
    public void Full_transport_bad_crc()
    {
        using var client = new ClientTransport(TransportKind.Full);
        var writer = new ArrayBufferWriter<byte>();
        client.WriteFrame(Sequence(16), writer);
        byte[] frame = writer.WrittenSpan.ToArray();
        for (int position = 8; position < frame.Length; position++)
        {
            byte[] bad = (byte[])frame.Clone();
            bad[position] ^= 0x04;
            using var server = new ServerTransport();
            Assert.Equal(TransportError.BadCrc, SingleError(server, bad).Error);
        }
    }

    [Fact]
    public void Full_transport_bad_sequence_numbers()
    {
        using var client = new ClientTransport(TransportKind.Full);
        var writer = new ArrayBufferWriter<byte>();
        client.WriteFrame(Sequence(16), writer);
        byte[] first = writer.WrittenSpan.ToArray();
        writer.ResetWrittenCount();
        client.WriteFrame(Sequence(16), writer);
        byte[] second = writer.WrittenSpan.ToArray();

        // Repeating frame 0 (a replay) and skipping to frame 1 first are both refused.
        using var replay = new ServerTransport();
        var feeder = new Feeder(replay);
        feeder.Feed([.. first, .. first]);
        Assert.Equal(2, feeder.Items.Count);
        Assert.Equal(TransportFrameKind.Payload, feeder.Items[0].Kind);
        Assert.Equal(TransportError.BadSequence, feeder.Items[1].Error);

        // In order they are fine.
        using var ok = new ServerTransport();
        Assert.Equal(2, Feeder.ReadAll(ok, [.. first, .. second]).Count);

        byte[] jump = (byte[])second.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(jump.AsSpan(4), 7);
        BinaryPrimitives.WriteUInt32LittleEndian(jump.AsSpan(jump.Length - 4), System.IO.Hashing.Crc32.HashToUInt32(jump.AsSpan(0, jump.Length - 4)));
        using var jumped = new ServerTransport();
        var items = Feeder.ReadAll(jumped, [.. first, .. jump]);
        Assert.Equal(TransportError.BadSequence, items[^1].Error);
    }

    [Fact]
    public void Truncated_streams_just_wait()
    {
        using var client = new ClientTransport(TransportKind.Abridged, obfuscated: true);
        var writer = new ArrayBufferWriter<byte>();
        client.WriteFrame(Sequence(400), writer);
        byte[] bytes = writer.WrittenSpan.ToArray();
        using var server = new ServerTransport();
        var feeder = new Feeder(server);
        feeder.Feed(bytes.AsSpan(0, bytes.Length - 1));
        Assert.Empty(feeder.Items);
        Assert.Equal(TransportError.None, server.Error);
        feeder.Feed(bytes.AsSpan(bytes.Length - 1));
        Assert.Equal(Sequence(400), Assert.Single(feeder.Items).Payload);
    }

    [Fact]
    public void Writer_misuse_throws()
    {
        using var server = new ServerTransport();
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0xEF });
        server.TryReadFrame(ref buffer, out _);
        var writer = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentException>(() => server.WriteFrame(new byte[8], writer, quickAckRequest: true));
        Assert.Throws<ArgumentException>(() => server.WriteFrame(new byte[6], writer));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.WriteFrame([], writer));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.WriteTransportError(404, writer));
        Assert.Throws<ArgumentException>(() => server.WriteFrame(new byte[8], new byte[8]));

        using var client = new ClientTransport(TransportKind.Full);
        Assert.Throws<NotSupportedException>(() => client.WriteFrame(new byte[8], writer, quickAckRequest: true));
        Assert.Throws<InvalidOperationException>(() => client.TryWriteQuickAck(0x80000000u, writer));
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServerTransport(new TransportOptions { MaxPayloadLength = 8 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServerTransport(new TransportOptions { MaxPayloadLength = int.MaxValue }));
        Assert.Throws<ArgumentException>(() => new ServerTransport(new TransportOptions { ObfuscationSecret = new byte[15] }));
        var options = new TransportOptions { ObfuscationSecret = Sequence(16) };
        Assert.DoesNotContain("0001", options.ToString());
    }
}
