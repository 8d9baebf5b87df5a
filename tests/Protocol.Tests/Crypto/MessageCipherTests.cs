using System.Buffers;
using System.Buffers.Binary;
using MtActors.Protocol.Crypto;
using static MtActors.Protocol.Tests.Crypto.CryptoTestData;

namespace MtActors.Protocol.Tests.Crypto;

public sealed class MessageCipherTests
{
    private static readonly AuthKey SequenceKey = new(Sequence(256));

    // test-vectors.md §G (self-generated regression frames, auth key 00..FF).
    private const string C2SPlain = "0807060504030201181716151413121104000000fcc0ab65010000000c000000ec77be7a28272625242322210000000000000000000000000000000000000000";
    private const string C2SWire = "32d1586ea457dfc8b53341e33767e3265499a7d1b9bafaca9e5df4ea06f77be3be071408a3089a4cfe83b0536d96d779ef8c576b3a85b94f3858ccf4d8dea9cb8935e0ebe6d5bc7f8a61c38298283201ca8fe329f1d15fb3";
    private const string S2CPlain = "0807060504030201181716151413121101040000fcc0ab650000000014000000c573773404000000fcc0ab652827262524232221000000000000000000000000";
    private const string S2CWire = "32d1586ea457dfc809a1bc7cee45e773e789b8a41a64b9044c862849cff66983fc4bb2d0ff603595fa9f38e6d8c457ec710f8270c0fe10d67b64542d5985b434061bd8c299c943c0ccc7295d23d13cd2c3d272fd9a44648f";

    [Fact]
    public void Grammers_encrypt_client_data_v2_88_byte_frame()
    {
        byte[] plain = [.. "Hello, world! This data should remain secure!"u8, .. new byte[19]];
        var frame = new byte[88];
        int written = MessageCipher.EncryptPlaintext(SequenceKey, MessageSender.Client, plain, frame, out _);
        Assert.Equal(88, written);
        Assert.Equal("32D1586EA457DFC8A81729D46DB54019A2BFD7F744F9B96C4F716CFDC4477DB2A2C15F6DDB85235FB9552F1D8407C6AAEA00CC844C5A1BF6AC44B79B5EDC2A23868B3D6073A590992C0F2975243D563EA180D218EE757C9A", ToHex(frame));
        // Its msg_key is right but the "length field" is ASCII: the receiver must refuse it as a bad length.
        Assert.Equal(MessageDecryptError.BadLength, MessageCipher.Decrypt(SequenceKey, MessageSender.Client, frame, new byte[64], out _));
    }

    [Fact]
    public void Real_telegram_server_frame_decrypts_with_x8()
    {
        var key = new AuthKey(Hex(GrammersServerKey));
        byte[] frame = Hex(GrammersServerFrame);
        Assert.Equal(168, frame.Length);
        Assert.True(MessageCipher.TryReadAuthKeyId(frame, out long id));
        Assert.Equal(key.Id, id);

        var plain = new byte[144];
        Assert.Equal(MessageDecryptError.None, MessageCipher.Decrypt(key, MessageSender.Server, frame, plain, out var message));
        Assert.Equal(Hex(GrammersServerPlaintext), plain);
        Assert.Equal(BinaryPrimitives.ReadInt64LittleEndian(Hex("FC826A02248B28FD")), message.Salt);
        Assert.Equal(BinaryPrimitives.ReadInt64LittleEndian(Hex("60F2C4822443AD68")), message.SessionId);
        Assert.Equal(0x5e308b91c2c1f001, message.MsgId);
        Assert.Equal(2, message.SeqNo);
        Assert.Equal(88, message.Body.Length);
        Assert.Equal(32, message.BodyOffset);
        Assert.Equal(0x73f1f8dcu, BinaryPrimitives.ReadUInt32LittleEndian(message.Body)); // msg_container
        Assert.True(message.QuickAckToken >= 0x80000000u);

        // The same frame read as if the client had sent it (x = 0) fails the msg_key check.
        Assert.Equal(MessageDecryptError.MsgKeyMismatch, MessageCipher.Decrypt(key, MessageSender.Client, frame, plain, out _));

        Assert.Equal(MessageDecryptError.None, MessageCipher.DecryptInPlace(key, MessageSender.Server, frame, out var inPlace));
        Assert.Equal(56, inPlace.BodyOffset);
        Assert.Equal(0x5e308b91c2c1f001, inPlace.MsgId);
        Assert.Equal(Hex(GrammersServerPlaintext), frame[24..]);
    }

    [Theory]
    [InlineData(MessageSender.Client, C2SPlain, C2SWire)]
    [InlineData(MessageSender.Server, S2CPlain, S2CWire)]
    public void Self_generated_frames_encrypt_and_decrypt(MessageSender sender, string plainHex, string wireHex)
    {
        byte[] plain = Hex(plainHex);
        var frame = new byte[plain.Length + 24];
        MessageCipher.EncryptPlaintext(SequenceKey, sender, plain, frame, out _);
        Assert.Equal(Hex(wireHex), frame);

        var output = new byte[plain.Length];
        Assert.Equal(MessageDecryptError.None, MessageCipher.Decrypt(SequenceKey, sender, Hex(wireHex), output, out var message));
        Assert.Equal(plain, output);
        Assert.Equal(0x0102030405060708, message.Salt);
        Assert.Equal(0x1112131415161718, message.SessionId);
    }

    [Fact]
    public void Self_generated_client_frame_fields_and_quick_ack()
    {
        var plain = new byte[64];
        Assert.Equal(MessageDecryptError.None, MessageCipher.Decrypt(SequenceKey, MessageSender.Client, Hex(C2SWire), plain, out var message));
        Assert.Equal(0x65ABC0FC00000004, message.MsgId);
        Assert.Equal(1, message.SeqNo);
        Assert.Equal(12, message.Body.Length);
        Assert.Equal(0x7abe77ecu, BinaryPrimitives.ReadUInt32LittleEndian(message.Body));
        Assert.Equal(0x2122232425262728, BinaryPrimitives.ReadInt64LittleEndian(message.Body[4..]));
        Assert.Equal(0xe0eafbe6u, message.QuickAckToken);

        // The client side computes the same token when it encrypts.
        MessageCipher.EncryptPlaintext(SequenceKey, MessageSender.Client, Hex(C2SPlain), new byte[88], out uint token);
        Assert.Equal(0xe0eafbe6u, token);

        // The high-level encryptor yields a frame of the same shape for the same fields.
        var header = new MessageHeader(0x0102030405060708, 0x1112131415161718, 0x65ABC0FC00000004, 1);
        var frame = new byte[MessageCipher.GetEncryptedLength(12)];
        Assert.Equal(88, MessageCipher.Encrypt(SequenceKey, MessageSender.Client, header, message.Body, frame));
        Assert.Equal(MessageDecryptError.None, MessageCipher.Decrypt(SequenceKey, MessageSender.Client, frame, new byte[64], out var again));
        Assert.Equal(header, again.Header);
    }

    [Fact]
    public void Padding_is_the_minimum_reaching_a_block_plus_extra_blocks()
    {
        for (int length = 0; length <= 400; length += 4)
        {
            int padding = MessageCipher.GetPaddingLength(length);
            Assert.InRange(padding, 12, 27);
            Assert.Equal(0, (32 + length + padding) % 16);
            int max = MessageCipher.GetPaddingLength(length, MessageCipher.MaxExtraPaddingBlocks);
            Assert.InRange(max, 12, 1024);
            Assert.Equal(padding + 16 * MessageCipher.MaxExtraPaddingBlocks, max);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageCipher.GetPaddingLength(8, MessageCipher.MaxExtraPaddingBlocks + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageCipher.GetPaddingLength(-4));
        Assert.InRange(MessageCipher.RandomExtraPaddingBlocks(3), 0, 3);
    }

    [Fact]
    public void Round_trips_random_messages_in_both_directions_and_every_api_shape()
    {
        var rng = new Random(42);
        for (int i = 0; i < 150; i++)
        {
            var keyBytes = new byte[256];
            rng.NextBytes(keyBytes);
            var key = new AuthKey(keyBytes);
            MessageSender sender = i % 2 == 0 ? MessageSender.Client : MessageSender.Server;
            var header = new MessageHeader(rng.NextInt64(), rng.NextInt64(), rng.NextInt64(), rng.Next());
            byte[] body = new byte[4 * rng.Next(0, 1500)];
            rng.NextBytes(body);
            int extra = rng.Next(0, MessageCipher.MaxExtraPaddingBlocks + 1);
            int length = MessageCipher.GetEncryptedLength(body.Length, extra);

            // 1. span in, span out
            var frame = new byte[length + 7];
            Assert.Equal(length, MessageCipher.Encrypt(key, sender, header, body, frame, extra, out uint sentToken));
            AssertDecrypts(key, sender, header, body, frame[..length], sentToken);

            // 2. zero-copy: body written at BodyOffset, sealed in place
            var sealedFrame = new byte[length];
            body.CopyTo(sealedFrame, MessageCipher.BodyOffset);
            Assert.Equal(length, MessageCipher.Seal(key, sender, header, sealedFrame, body.Length, extra, out uint sealToken));
            AssertDecrypts(key, sender, header, body, sealedFrame, sealToken);
            Assert.NotEqual(frame[..length], sealedFrame); // fresh random padding -> different msg_key

            // 3. IBufferWriter
            var writer = new ArrayBufferWriter<byte>();
            Assert.Equal(length, MessageCipher.Encrypt(key, sender, header, body, writer, extra));
            Assert.Equal(length, writer.WrittenCount);
            AssertDecrypts(key, sender, header, body, writer.WrittenSpan.ToArray(), null);

            // 4. in place
            byte[] copy = (byte[])sealedFrame.Clone();
            Assert.Equal(MessageDecryptError.None, MessageCipher.DecryptInPlace(key, sender, copy, out var m));
            Assert.Equal(header, m.Header);
            Assert.Equal(body, m.Body.ToArray());
            Assert.Equal(body, copy.AsSpan(m.BodyOffset, body.Length).ToArray());
        }
    }

    private static void AssertDecrypts(AuthKey key, MessageSender sender, MessageHeader header, byte[] body, byte[] frame, uint? token)
    {
        var plain = new byte[frame.Length - 24];
        Assert.Equal(MessageDecryptError.None, MessageCipher.Decrypt(key, sender, frame, plain, out var message, strictBlockAlignment: true));
        Assert.Equal(header, message.Header);
        Assert.Equal(body, message.Body.ToArray());
        Assert.Equal(32, message.BodyOffset);
        int padding = plain.Length - 32 - body.Length;
        Assert.InRange(padding, 12, 1024);
        if (token is not null) Assert.Equal(token.Value, message.QuickAckToken);
        MessageSender other = sender == MessageSender.Client ? MessageSender.Server : MessageSender.Client;
        Assert.Equal(MessageDecryptError.MsgKeyMismatch, MessageCipher.Decrypt(key, other, frame, plain, out _));
    }

    private static byte[] ValidFrame(int bodyLength = 12)
    {
        var header = new MessageHeader(1, 2, 3, 4);
        var frame = new byte[MessageCipher.GetEncryptedLength(bodyLength)];
        MessageCipher.Encrypt(SequenceKey, MessageSender.Client, header, new byte[bodyLength], frame);
        return frame;
    }

    private static MessageDecryptError Decrypt(byte[] frame, bool strict = false) =>
        MessageCipher.Decrypt(SequenceKey, MessageSender.Client, frame, new byte[Math.Max(0, frame.Length)], out _, strict);

    [Fact]
    public void Tampered_msg_key_or_ciphertext_is_a_msg_key_mismatch()
    {
        byte[] frame = ValidFrame(100);
        Assert.Equal(MessageDecryptError.None, Decrypt(frame));
        for (int position = 8; position < frame.Length; position += 7)
        {
            byte[] bad = (byte[])frame.Clone();
            bad[position] ^= 0x01;
            Assert.Equal(MessageDecryptError.MsgKeyMismatch, Decrypt(bad));
        }
        // A frame cut by one whole block also fails the check.
        Assert.Equal(MessageDecryptError.MsgKeyMismatch, Decrypt(frame[..^16]));
    }

    [Fact]
    public void Wrong_auth_key_is_detected_before_decrypting()
    {
        byte[] frame = ValidFrame();
        frame[0] ^= 0x80;
        Assert.Equal(MessageDecryptError.WrongAuthKeyId, Decrypt(frame));
        var otherKey = new AuthKey(Sequence(256, 1));
        Assert.Equal(MessageDecryptError.WrongAuthKeyId, MessageCipher.Decrypt(otherKey, MessageSender.Client, ValidFrame(), new byte[100], out _));
    }

    [Fact]
    public void Truncated_frames_are_too_short()
    {
        byte[] frame = ValidFrame(0);
        Assert.Equal(72, frame.Length);
        Assert.Equal(MessageDecryptError.None, Decrypt(frame));
        Assert.Equal(MessageDecryptError.TooShort, Decrypt(frame[..71]));
        Assert.Equal(MessageDecryptError.TooShort, Decrypt(frame[..24]));
        Assert.Equal(MessageDecryptError.TooShort, Decrypt([]));
        Assert.False(MessageCipher.TryReadAuthKeyId(frame.AsSpan(0, 7), out _));
    }

    [Fact]
    public void Trailing_partial_block_is_dropped_unless_strict()
    {
        byte[] frame = ValidFrame(40);
        for (int extra = 1; extra < 16; extra++)
        {
            byte[] padded = [.. frame, .. Sequence(extra, 200)];
            Assert.Equal(MessageDecryptError.None, Decrypt(padded));
            Assert.Equal(MessageDecryptError.NotBlockAligned, Decrypt(padded, strict: true));
        }
    }

    [Fact]
    public void Destination_smaller_than_the_data_is_reported()
    {
        byte[] frame = ValidFrame(40);
        Assert.Equal(MessageDecryptError.DestinationTooSmall,
            MessageCipher.Decrypt(SequenceKey, MessageSender.Client, frame, new byte[frame.Length - 25], out _));
    }

    /// <summary>A frame with a correct msg_key around a hand-made plaintext (bad length / padding fields).</summary>
    private static byte[] FrameAround(int lengthField, int plaintextLength)
    {
        var plain = new byte[plaintextLength];
        BinaryPrimitives.WriteInt32LittleEndian(plain.AsSpan(28), lengthField);
        var frame = new byte[plaintextLength + 24];
        MessageCipher.EncryptPlaintext(SequenceKey, MessageSender.Client, plain, frame, out _);
        return frame;
    }

    [Theory]
    [InlineData(-4, 64)]
    [InlineData(2, 64)]
    [InlineData(13, 64)]
    [InlineData(36, 64)]       // 32 + 36 > 64
    [InlineData(int.MaxValue & ~3, 64)]
    [InlineData(int.MinValue, 64)]
    public void Bad_length_fields_are_rejected(int lengthField, int plaintextLength) =>
        Assert.Equal(MessageDecryptError.BadLength, Decrypt(FrameAround(lengthField, plaintextLength)));

    [Theory]
    [InlineData(12, 48)]   // padding 4
    [InlineData(32, 64)]   // padding 0
    [InlineData(0, 1072)]  // padding 1040
    [InlineData(20, 1088)] // padding 1036
    public void Padding_outside_12_to_1024_is_rejected(int lengthField, int plaintextLength) =>
        Assert.Equal(MessageDecryptError.BadPadding, Decrypt(FrameAround(lengthField, plaintextLength)));

    [Theory]
    [InlineData(0, 48)]    // padding 16
    [InlineData(4, 48)]    // padding 12
    [InlineData(0, 1056)]  // padding 1024
    public void Padding_at_the_limits_is_accepted(int lengthField, int plaintextLength) =>
        Assert.Equal(MessageDecryptError.None, Decrypt(FrameAround(lengthField, plaintextLength)));

    [Fact]
    public void Encrypt_rejects_programming_errors()
    {
        var header = new MessageHeader(1, 2, 3, 4);
        Assert.Throws<ArgumentException>(() => MessageCipher.Encrypt(SequenceKey, MessageSender.Server, header, new byte[6], new byte[200]));
        Assert.Throws<ArgumentException>(() => MessageCipher.Encrypt(SequenceKey, MessageSender.Server, header, new byte[8], new byte[71]));
        Assert.Throws<ArgumentException>(() => MessageCipher.EncryptPlaintext(SequenceKey, MessageSender.Server, new byte[40], new byte[100], out _));
        Assert.Throws<ArgumentException>(() => MessageCipher.EncryptPlaintext(SequenceKey, MessageSender.Server, new byte[48], new byte[71], out _));
    }
}
