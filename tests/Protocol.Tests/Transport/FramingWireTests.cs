using System.Buffers;
using System.Buffers.Binary;
using MtActors.Protocol.Transport;
using static MtActors.Protocol.Tests.Crypto.CryptoTestData;

namespace MtActors.Protocol.Tests.Transport;

/// <summary>Exact bytes of each framing (spec §7.2–7.4, 7.6).</summary>
public sealed class FramingWireTests
{
    private static ServerTransport DetectedServer(params byte[] opening)
    {
        var server = new ServerTransport();
        var buffer = new ReadOnlySequence<byte>(opening);
        Assert.False(server.TryReadFrame(ref buffer, out _));
        Assert.True(server.IsDetected);
        Assert.True(buffer.IsEmpty);
        return server;
    }

    private static byte[] Written(Func<IBufferWriter<byte>, int> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        int n = write(writer);
        Assert.Equal(n, writer.WrittenCount);
        return writer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Abridged_short_and_long_length_forms()
    {
        using var server = DetectedServer(0xEF);
        Assert.Equal(TransportKind.Abridged, server.Kind);
        Assert.Equal("0201020304050607 08".Replace(" ", ""), ToHex(Written(w => server.WriteFrame(Sequence(8, 1), w))));
        byte[] big = Written(w => server.WriteFrame(new byte[127 * 4], w));
        Assert.Equal("7F7F0000", ToHex(big.AsSpan(0, 4)));
        Assert.Equal(4 + 508, big.Length);
        byte[] edge = Written(w => server.WriteFrame(new byte[126 * 4], w));
        Assert.Equal(0x7E, edge[0]);
        Assert.Equal(1 + 504, edge.Length);
        byte[] huge = Written(w => server.WriteFrame(new byte[0x12345 * 4], w));
        Assert.Equal("7F452301", ToHex(huge.AsSpan(0, 4)));
    }

    [Fact]
    public void Abridged_quick_ack_request_and_big_endian_reply()
    {
        using var client = new ClientTransport(TransportKind.Abridged);
        byte[] wire = Written(w => client.WriteFrame(Sequence(8), w, quickAckRequest: true));
        Assert.Equal("EF82", ToHex(wire.AsSpan(0, 2)));
        byte[] longWire = Written(w => client.WriteFrame(new byte[200 * 4], w, quickAckRequest: true));
        Assert.Equal("FFC80000", ToHex(longWire.AsSpan(0, 4)));

        using var server = new ServerTransport();
        List<ReadItem> items = Feeder.ReadAll(server, [.. wire, .. longWire]);
        Assert.Equal(2, items.Count);
        Assert.All(items, i => Assert.True(i.QuickAckRequested));
        Assert.Equal(Sequence(8), items[0].Payload);
        Assert.Equal(800, items[1].Payload.Length);

        byte[] reply = Written(w => server.TryWriteQuickAck(0x8A0B0C0Du, w) ? 4 : 0);
        Assert.Equal("8A0B0C0D", ToHex(reply));
        List<ReadItem> got = Feeder.ReadAll(client, reply);
        Assert.Equal(TransportFrameKind.QuickAck, Assert.Single(got).Kind);
        Assert.Equal(0x8A0B0C0Du, got[0].QuickAckToken);
    }

    [Fact]
    public void Intermediate_transport_error_404_matches_the_spec_example()
    {
        using var server = DetectedServer(0xEE, 0xEE, 0xEE, 0xEE);
        byte[] wire = Written(w => server.WriteTransportError(TransportErrorCodes.AuthKeyNotFound, w));
        Assert.Equal("040000006CFEFFFF", ToHex(wire));

        using var client = new ClientTransport(TransportKind.Intermediate);
        var frame = Assert.Single(Feeder.ReadAll(client, wire));
        Assert.Equal(TransportFrameKind.Payload, frame.Kind);
        var buffer = new ReadOnlySequence<byte>(wire);
        using var client2 = new ClientTransport(TransportKind.Intermediate);
        Assert.True(client2.TryReadFrame(ref buffer, out var f));
        Assert.True(f.TryGetTransportErrorCode(out int code));
        Assert.Equal(-404, code);
    }

    [Theory]
    [InlineData(TransportErrorCodes.Flood)]
    [InlineData(TransportErrorCodes.InvalidDc)]
    [InlineData(TransportErrorCodes.AuthKeyNotFound)]
    public void Transport_errors_round_trip_on_every_framing(int errorCode)
    {
        foreach (var (kind, opening) in Openings)
        {
            using var client = new ClientTransport(kind);
            using var server = new ServerTransport();
            Assert.Single(Feeder.ReadAll(server, Written(w => client.WriteFrame(Sequence(16), w))));
            byte[] wire = Written(w => server.WriteTransportError(errorCode, w));
            var buffer = new ReadOnlySequence<byte>(wire);
            Assert.True(client.TryReadFrame(ref buffer, out var frame));
            Assert.True(frame.TryGetTransportErrorCode(out int code), kind.ToString());
            Assert.Equal(errorCode, code);
            Assert.Equal(4, frame.Payload.Length); // never padded
            Assert.True(buffer.IsEmpty);
            Assert.NotNull(opening);
        }
    }

    public static readonly (TransportKind, byte[]?)[] Openings =
    [
        (TransportKind.Abridged, [0xEF]),
        (TransportKind.Intermediate, [0xEE, 0xEE, 0xEE, 0xEE]),
        (TransportKind.PaddedIntermediate, [0xDD, 0xDD, 0xDD, 0xDD]),
        (TransportKind.Full, []),
    ];

    [Fact]
    public void Ordinary_payloads_are_not_transport_errors()
    {
        using var client = new ClientTransport(TransportKind.Intermediate);
        byte[] positive = [4, 0, 0, 0, 1, 0, 0, 0];
        byte[] sixteen = [16, 0, 0, 0, .. Enumerable.Repeat((byte)0xFF, 16)];
        var buffer = new ReadOnlySequence<byte>([.. positive, .. sixteen]);
        Assert.True(client.TryReadFrame(ref buffer, out var a));
        Assert.False(a.TryGetTransportErrorCode(out _));
        Assert.True(client.TryReadFrame(ref buffer, out var b));
        Assert.False(b.TryGetTransportErrorCode(out _));
    }

    [Fact]
    public void Intermediate_quick_ack_bit_31_and_bare_token_reply()
    {
        using var client = new ClientTransport(TransportKind.Intermediate);
        byte[] wire = Written(w => client.WriteFrame(Sequence(12), w, quickAckRequest: true));
        Assert.Equal("EEEEEEEE0C000080", ToHex(wire.AsSpan(0, 8)));
        using var server = new ServerTransport();
        var item = Assert.Single(Feeder.ReadAll(server, wire));
        Assert.True(item.QuickAckRequested);
        Assert.Equal(Sequence(12), item.Payload);

        byte[] reply = Written(w => server.TryWriteQuickAck(0xE0EAFBE6u, w) ? 4 : 0);
        Assert.Equal("E6FBEAE0", ToHex(reply));
        var ack = Assert.Single(Feeder.ReadAll(client, reply));
        Assert.Equal(TransportFrameKind.QuickAck, ack.Kind);
        Assert.Equal(0xE0EAFBE6u, ack.QuickAckToken);
    }

    [Fact]
    public void Padded_intermediate_adds_0_to_15_random_bytes_counted_in_the_length()
    {
        using var server = DetectedServer(0xDD, 0xDD, 0xDD, 0xDD);
        var seen = new HashSet<int>();
        for (int i = 0; i < 200; i++)
        {
            byte[] wire = Written(w => server.WriteFrame(Sequence(40), w));
            int length = BinaryPrimitives.ReadInt32LittleEndian(wire);
            Assert.Equal(wire.Length - 4, length);
            Assert.InRange(length - 40, 0, 15);
            Assert.Equal(Sequence(40), wire[4..44]);
            seen.Add(length - 40);
        }
        Assert.True(seen.Count > 5, "padding should vary");
    }

    [Fact]
    public void Full_frames_carry_length_sequence_and_crc32()
    {
        using var client = new ClientTransport(TransportKind.Full);
        byte[] first = Written(w => client.WriteFrame(Sequence(8, 1), w));
        byte[] second = Written(w => client.WriteFrame(Sequence(8, 1), w));
        Assert.Equal("1400000000000000", ToHex(first.AsSpan(0, 8)));
        Assert.Equal("1400000001000000", ToHex(second.AsSpan(0, 8)));
        Assert.Equal(20, first.Length);
        Assert.Equal(BitwiseCrc32(first.AsSpan(0, 16)), BinaryPrimitives.ReadUInt32LittleEndian(first.AsSpan(16)));
        Assert.Equal(BitwiseCrc32(second.AsSpan(0, 16)), BinaryPrimitives.ReadUInt32LittleEndian(second.AsSpan(16)));
        Assert.Equal(0xCBF43926u, BitwiseCrc32("123456789"u8)); // the reference itself

        using var server = new ServerTransport();
        List<ReadItem> items = Feeder.ReadAll(server, [.. first, .. second]);
        Assert.Equal(TransportKind.Full, server.Kind);
        Assert.Equal(2, items.Count);
        Assert.All(items, i => Assert.Equal(Sequence(8, 1), i.Payload));
        Assert.False(server.SupportsQuickAck);
        Assert.False(server.TryWriteQuickAck(0x80000001u, new ArrayBufferWriter<byte>()));
    }

    /// <summary>Independent CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320).</summary>
    private static uint BitwiseCrc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void Client_preamble_goes_in_front_of_the_first_frame_only()
    {
        foreach (var (kind, opening) in Openings)
        {
            using var client = new ClientTransport(kind);
            byte[] first = Written(w => client.WriteFrame(Sequence(16), w));
            byte[] second = Written(w => client.WriteFrame(Sequence(16), w));
            Assert.Equal(opening, first[..opening!.Length]);
            if (kind != TransportKind.PaddedIntermediate) Assert.Equal(opening.Length + second.Length, first.Length);
            if (opening.Length > 0) Assert.NotEqual(opening, second[..opening.Length]);
        }
        using var explicitPreamble = new ClientTransport(TransportKind.Intermediate);
        Assert.Equal("EEEEEEEE", ToHex(Written(explicitPreamble.WritePreamble)));
        Assert.Equal(0, explicitPreamble.WritePreamble(new ArrayBufferWriter<byte>()));
        Assert.Equal("04000000", ToHex(Written(w => explicitPreamble.WriteFrame(Sequence(4), w)).AsSpan(0, 4)));
    }

    [Fact]
    public void Zero_copy_writing_matches_write_frame()
    {
        using var a = new ClientTransport(TransportKind.Abridged);
        using var b = new ClientTransport(TransportKind.Abridged);
        foreach (int size in new[] { 4, 500, 504, 508, 4000 })
        {
            byte[] payload = Sequence(size, size);
            byte[] expected = Written(w => a.WriteFrame(payload, w));
            var buffer = new byte[b.GetMaxFrameLength(size)];
            payload.CopyTo(buffer, b.GetPayloadOffset(size));
            int n = b.CompleteFrame(buffer, size);
            Assert.Equal(expected, buffer[..n]);
        }
    }
}
