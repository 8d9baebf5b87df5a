using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Transport;
using static MtActors.Protocol.Tests.Crypto.CryptoTestData;

namespace MtActors.Protocol.Tests.Transport;

/// <summary>Server-side detection from the first bytes (spec §7.1) and the obfuscated init (§7.5).</summary>
public sealed class DetectionTests
{
    [Theory]
    [InlineData("EF", TransportKind.Abridged, 1)]
    [InlineData("EEEEEEEE", TransportKind.Intermediate, 4)]
    [InlineData("DDDDDDDD", TransportKind.PaddedIntermediate, 4)]
    [InlineData("1400000000000000", TransportKind.Full, 0)]
    public void Recognises_plain_transports_and_consumes_only_the_tag(string opening, TransportKind kind, int consumed)
    {
        byte[] bytes = [.. Hex(opening), .. new byte[12]];
        using var server = new ServerTransport();
        var buffer = new ReadOnlySequence<byte>(bytes);
        server.TryReadFrame(ref buffer, out _);
        Assert.True(server.IsDetected);
        Assert.Equal(kind, server.Kind);
        Assert.False(server.IsObfuscated);
        Assert.True(bytes.Length - buffer.Length >= consumed);
        if (kind == TransportKind.Full) Assert.Equal(bytes.Length, buffer.Length);
    }

    [Theory]
    [InlineData("EE")]
    [InlineData("EEEEEE")]
    [InlineData("01020304")]
    [InlineData("0102030405060708")] // could still be an obfuscated init
    [InlineData("14000000000000")]
    public void Waits_for_more_bytes_without_consuming(string prefix)
    {
        using var server = new ServerTransport();
        byte[] bytes = Hex(prefix);
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.False(server.TryReadFrame(ref buffer, out _));
        Assert.Equal(bytes.Length, buffer.Length);
        Assert.False(server.IsDetected);
        Assert.Throws<InvalidOperationException>(() => server.Kind);
        Assert.Throws<InvalidOperationException>(() => server.WriteFrame(new byte[4], new ArrayBufferWriter<byte>()));
    }

    [Theory]
    [InlineData("POST /api HTTP/1.1", TransportError.HttpNotSupported)]
    [InlineData("GET / HTTP/1.1", TransportError.HttpNotSupported)]
    [InlineData("HEAD / HTTP/1.1", TransportError.HttpNotSupported)]
    [InlineData("OPTIONS * HTTP/1.1", TransportError.HttpNotSupported)]
    public void Refuses_http(string request, TransportError expected) =>
        AssertRefused(System.Text.Encoding.ASCII.GetBytes(request), expected);

    [Fact]
    public void Refuses_fake_tls() => AssertRefused([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0xFC, 0x03], TransportError.FakeTlsNotSupported);

    private static void AssertRefused(byte[] bytes, TransportError expected)
    {
        using var server = new ServerTransport();
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(server.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(TransportFrameKind.Error, frame.Kind);
        Assert.Equal(expected, frame.Error);
        Assert.Equal(expected, server.Error);
        Assert.False(server.TryReadFrame(ref buffer, out _)); // faulted: no further frames, no loop
    }

    [Theory]
    [InlineData(TransportKind.Abridged)]
    [InlineData(TransportKind.Intermediate)]
    [InlineData(TransportKind.PaddedIntermediate)]
    public void Obfuscated_client_is_detected_with_its_inner_transport_and_dc(TransportKind kind)
    {
        using var client = new ClientTransport(kind, obfuscated: true, dcId: -2);
        var writer = new ArrayBufferWriter<byte>();
        client.WritePreamble(writer);
        Assert.Equal(64, writer.WrittenCount);
        using var server = new ServerTransport();
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.False(server.TryReadFrame(ref buffer, out _));
        Assert.True(buffer.IsEmpty);
        Assert.True(server.IsObfuscated);
        Assert.Equal(kind, server.Kind);
        Assert.Equal(-2, server.DcId);
    }

    [Fact]
    public void Obfuscated_init_follows_the_spec_layout_byte_for_byte()
    {
        // Build the init and both streams here from the spec text, independently of the codec.
        byte[] init = new byte[64];
        do RandomNumberGenerator.Fill(init);
        while (init[0] == 0xEF || BinaryPrimitives.ReadUInt32LittleEndian(init.AsSpan(4)) == 0
               || BinaryPrimitives.ReadUInt32LittleEndian(init) is 0xEEEEEEEE or 0xDDDDDDDD or 0x44414548 or 0x54534F50 or 0x20544547 or 0x4954504F or 0x02010316);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(56), 0xEEEEEEEE);
        BinaryPrimitives.WriteInt16LittleEndian(init.AsSpan(60), 4);
        using var clientSend = new AesCtr(init.AsSpan(8, 32), init.AsSpan(40, 16));
        byte[] encrypted = new byte[64];
        clientSend.Transform(init, encrypted);
        byte[] wire = [.. init[..56], .. encrypted[56..]];
        byte[] frame = [.. BitConverter.GetBytes(8), .. Sequence(8)];
        clientSend.Transform(frame);
        wire = [.. wire, .. frame];

        using var server = new ServerTransport();
        var item = Assert.Single(Feeder.ReadAll(server, wire));
        Assert.Equal(Sequence(8), item.Payload);
        Assert.Equal(4, server.DcId);

        // Server to client: key = reverse(init[24..56)), iv = reverse(init[8..24)).
        byte[] ke = init[24..56].Reverse().ToArray();
        byte[] ive = init[8..24].Reverse().ToArray();
        var writer = new ArrayBufferWriter<byte>();
        server.WriteFrame(Sequence(12, 3), writer);
        byte[] reply = writer.WrittenSpan.ToArray();
        using var clientReceive = new AesCtr(ke, ive);
        clientReceive.Transform(reply);
        Assert.Equal([12, 0, 0, 0, .. Sequence(12, 3)], reply);
    }

    [Fact]
    public void Mtproxy_secret_is_hashed_into_both_keys()
    {
        byte[] secret = Sequence(16, 0xA0);
        var options = new TransportOptions { ObfuscationSecret = secret };
        using var client = new ClientTransport(TransportKind.PaddedIntermediate, obfuscated: true, options, dcId: 2);
        var writer = new ArrayBufferWriter<byte>();
        client.WriteFrame(Sequence(32), writer);
        byte[] wire = writer.WrittenSpan.ToArray();

        // Independent derivation: key = SHA256(init[8..40) || secret), iv = init[40..56).
        byte[] key = SHA256.HashData([.. wire[8..40], .. secret]);
        using (var ctr = new AesCtr(key, wire.AsSpan(40, 16)))
        {
            byte[] copy = wire[..64];
            ctr.Transform(copy);
            Assert.Equal(0xDDDDDDDDu, BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(56)));
            Assert.Equal(2, BinaryPrimitives.ReadInt16LittleEndian(copy.AsSpan(60)));
        }

        using var server = new ServerTransport(options);
        var item = Assert.Single(Feeder.ReadAll(server, wire));
        Assert.Equal(Sequence(32), item.Payload[..32]);

        // Without the secret (or with another one) the tag does not decrypt.
        using var noSecret = new ServerTransport();
        Assert.Equal(TransportError.BadObfuscationTag, Assert.Single(Feeder.ReadAll(noSecret, wire)).Error);
        using var otherSecret = new ServerTransport(new TransportOptions { ObfuscationSecret = Sequence(16, 1) });
        Assert.Equal(TransportError.BadObfuscationTag, Assert.Single(Feeder.ReadAll(otherSecret, wire)).Error);
    }

    [Fact]
    public void Bad_obfuscation_tag_is_refused()
    {
        for (int position = 56; position < 60; position++)
        {
            using var client = new ClientTransport(TransportKind.Intermediate, obfuscated: true);
            var writer = new ArrayBufferWriter<byte>();
            client.WritePreamble(writer);
            byte[] init = writer.WrittenSpan.ToArray();
            init[position] ^= 0x10;
            using var server = new ServerTransport();
            var item = Assert.Single(Feeder.ReadAll(server, init));
            Assert.Equal(TransportFrameKind.Error, item.Kind);
            Assert.Equal(TransportError.BadObfuscationTag, item.Error);
            Assert.False(server.IsDetected);
        }
    }

    [Fact]
    public void Random_bytes_are_refused_as_a_bad_obfuscation_tag()
    {
        var rng = new Random(5);
        int refused = 0;
        for (int i = 0; i < 50; i++)
        {
            byte[] junk = new byte[64];
            rng.NextBytes(junk);
            if (junk[0] == 0xEF || BinaryPrimitives.ReadUInt32LittleEndian(junk.AsSpan(4)) == 0) continue;
            using var server = new ServerTransport();
            var item = Assert.Single(Feeder.ReadAll(server, junk));
            Assert.Equal(TransportError.BadObfuscationTag, item.Error);
            refused++;
        }
        Assert.True(refused > 40);
    }

    [Fact]
    public void Client_inits_never_look_like_another_transport()
    {
        for (int i = 0; i < 300; i++)
        {
            using var client = new ClientTransport(TransportKind.Abridged, obfuscated: true);
            var writer = new ArrayBufferWriter<byte>();
            client.WritePreamble(writer);
            ReadOnlySpan<byte> init = writer.WrittenSpan;
            Assert.NotEqual(0xEF, init[0]);
            Assert.NotEqual(0u, BinaryPrimitives.ReadUInt32LittleEndian(init[4..]));
            Assert.DoesNotContain(BinaryPrimitives.ReadUInt32LittleEndian(init),
                new uint[] { 0x44414548, 0x54534F50, 0x20544547, 0x4954504F, 0x02010316, 0xDDDDDDDD, 0xEEEEEEEE });
        }
    }

    [Fact]
    public void Full_transport_cannot_be_obfuscated() =>
        Assert.Throws<ArgumentException>(() => new ClientTransport(TransportKind.Full, obfuscated: true));
}
