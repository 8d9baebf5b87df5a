using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using MtActors.Interop.Tests.Clients;
using MtActors.Protocol.Crypto;

namespace MtActors.Interop.Tests;

/// <summary>
/// Proves the client harness without our server: each real client (GramJS, mtcute) with each of its transports dials
/// the port it was given (GramJS's TelegramClient ignores setDC's port, real-clients.md §2.1), frames its first
/// message as the transport says, and that message is an unencrypted req_pq_multi, or, with a pre-shared key, an
/// encrypted message under that key's id. A one-connection probe records the bytes and then closes.
/// </summary>
public sealed class FirstBytesTests
{
    // Generous: on a loaded 2-core machine node needs a second or more just to load a client library. The runs end
    // much sooner: the probe hangs up after the first frame and the drivers then fail fast (GramJS has one handshake
    // attempt, mtcute is given no reconnect).
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CaptureTimeout = ClientTimeout + NodeClient.HardTimeoutMargin;

    public enum Wire
    {
        Full,
        Abridged,
        Intermediate,
        Padded,
        ObfuscatedAbridged,
        ObfuscatedIntermediate,
        ObfuscatedPadded,
    }

    public static TheoryData<string, string, Wire> GramJsCases => new()
    {
        { "sender", "full", Wire.Full },
        { "sender", "abridged", Wire.Abridged },
        { "sender", "obfuscated", Wire.ObfuscatedAbridged },
        { "client", "full", Wire.Full },
        { "client", "abridged", Wire.Abridged },
        { "client", "obfuscated", Wire.ObfuscatedAbridged },
    };

    public static TheoryData<string, Wire> MtcuteCases => new()
    {
        { "intermediate", Wire.Intermediate },
        { "padded", Wire.Padded },
        { "obfuscated", Wire.ObfuscatedIntermediate },
        { "obfuscated-padded", Wire.ObfuscatedPadded },
    };

    [Theory]
    [MemberData(nameof(GramJsCases))]
    public async Task GramJs_sends_req_pq_multi_in_its_transport(string mode, string transport, Wire wire)
    {
        using RSA rsa = RsaPem.CreateClientCompatibleKey();
        using RsaPem pem = RsaPem.Write(rsa);
        (byte[] bytes, ClientRun run) = await CaptureAsync(NodeClient.GramJs, wire, port => new ClientOptions
        {
            Port = port,
            Scenario = "connect-ping",
            Transport = transport,
            Mode = mode,
            RsaKeyPath = pem.Path,
            Timeout = ClientTimeout,
        });

        AssertUnencryptedReqPqMulti(Parse(wire, bytes), run);
        // The probe hangs up after the first frame: the driver must still end by itself with a failure line.
        AssertEndedWithResultLine(run);
    }

    [Theory]
    [MemberData(nameof(MtcuteCases))]
    public async Task Mtcute_sends_req_pq_multi_in_its_transport(string transport, Wire wire)
    {
        using RSA rsa = RsaPem.CreateClientCompatibleKey();
        using RsaPem pem = RsaPem.Write(rsa);
        (byte[] bytes, ClientRun run) = await CaptureAsync(NodeClient.Mtcute, wire, port => new ClientOptions
        {
            Port = port,
            Scenario = "connect-ping",
            Transport = transport,
            RsaKeyPath = pem.Path,
            Timeout = ClientTimeout,
            Extra = new Dictionary<string, string> { ["reconnects"] = "0" },
        });

        AssertUnencryptedReqPqMulti(Parse(wire, bytes), run);
        AssertEndedWithResultLine(run);
    }

    [Theory]
    [InlineData("gramjs", "full", Wire.Full)]
    [InlineData("gramjs", "obfuscated", Wire.ObfuscatedAbridged)]
    [InlineData("mtcute", "intermediate", Wire.Intermediate)]
    [InlineData("mtcute", "padded", Wire.Padded)]
    public async Task With_a_pre_shared_key_the_first_frame_is_encrypted_under_its_id(string clientName, string transport, Wire wire)
    {
        byte[] key = RandomNumberGenerator.GetBytes(256);
        key[0] |= 0x80; // a full 256-byte key
        NodeClient client = clientName == "gramjs" ? NodeClient.GramJs : NodeClient.Mtcute;
        (byte[] bytes, ClientRun run) = await CaptureAsync(client, wire, port => new ClientOptions
        {
            Port = port,
            Scenario = "connect-ping",
            Transport = transport,
            AuthKey = key,
            Timeout = ClientTimeout,
            Extra = clientName == "mtcute" ? new Dictionary<string, string> { ["reconnects"] = "0" } : new Dictionary<string, string>(),
        });

        Parsed p = Parse(wire, bytes);
        Assert.True(p.Error is null && p.Payload is not null, $"{p.Error ?? "incomplete first frame"} ({bytes.Length} bytes: {Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 96)))})\n{run}");
        byte[] payload = p.Payload!;
        Assert.Equal(AuthKey.ComputeId(key), BinaryPrimitives.ReadInt64LittleEndian(payload));
        // auth_key_id(8) + msg_key(16) + AES-IGE blocks holding at least salt, session, header and one constructor.
        Assert.True(payload.Length >= 24 + 48 && (payload.Length - 24) % 16 == 0, $"encrypted payload of {payload.Length} bytes");
        AssertEndedWithResultLine(run);
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static async Task<(byte[] Bytes, ClientRun Run)> CaptureAsync(NodeClient client, Wire wire, Func<int, ClientOptions> options)
    {
        using FirstBytesProbe probe = FirstBytesProbe.Start();
        Task<byte[]> capture = probe.CaptureAsync(b => Parse(wire, b) is { } p && (p.Payload is not null || p.Error is not null), CaptureTimeout);
        ClientRun run = await client.RunAsync(options(probe.Port));
        // The client has exited: whatever it sent is in the socket buffer already.
        byte[] bytes;
        try
        {
            bytes = await capture.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            bytes = [];
        }
        Assert.True(bytes.Length > 0, $"the client never sent a byte to 127.0.0.1:{probe.Port}\n{run}");
        return (bytes, run);
    }

    private static void AssertEndedWithResultLine(ClientRun run)
    {
        Assert.False(run.KilledOnTimeout, run.ToString());
        Assert.True(run.Line is not null, $"no JSON result line\n{run}");
        Assert.False(run.Ok, $"a probe that hangs up cannot make the scenario succeed\n{run}");
        Assert.NotEqual(0, run.ExitCode);
    }

    private static void AssertUnencryptedReqPqMulti(Parsed p, ClientRun run)
    {
        Assert.True(p.Error is null && p.Payload is not null, $"{p.Error ?? "incomplete first frame"}\n{run}");
        ReadOnlySpan<byte> m = p.Payload;
        Assert.Equal(40, m.Length); // 8 auth_key_id + 8 msg_id + 4 length + 20 (req_pq_multi#be7e8ef1 nonce:int128)
        Assert.Equal(0L, BinaryPrimitives.ReadInt64LittleEndian(m)); // unencrypted
        long msgId = BinaryPrimitives.ReadInt64LittleEndian(m[8..]);
        Assert.True(msgId > 0 && msgId % 4 == 0, $"client msg_id {msgId:x16} must be positive and divisible by 4");
        long seconds = msgId >> 32;
        Assert.InRange(seconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 300, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 30);
        Assert.Equal(20, BinaryPrimitives.ReadInt32LittleEndian(m[16..]));
        Assert.Equal(0xbe7e8ef1u, BinaryPrimitives.ReadUInt32LittleEndian(m[20..]));
        Assert.False(m[24..40].IndexOfAnyExcept((byte)0) < 0, "the nonce is all zeros");
    }

    // ---- transport framing (client -> server direction) -------------------------------------------------------------

    public sealed record Parsed(byte[]? Payload, string? Error);

    private static readonly Parsed Incomplete = new(null, null);

    private static Parsed Fail(string error) => new(null, error);

    private static Parsed Parse(Wire wire, byte[] data) => wire switch
    {
        Wire.Full => ParseFull(data),
        Wire.Abridged => data.Length < 1 ? Incomplete
            : data[0] != 0xef ? Fail($"abridged starts with 0xef, got 0x{data[0]:x2}")
            : ParseAbridgedFrame(data.AsSpan(1)),
        Wire.Intermediate => ParseTagged(data, 0xee, padded: false),
        Wire.Padded => ParseTagged(data, 0xdd, padded: true),
        Wire.ObfuscatedAbridged => ParseObfuscated(data, 0xef, p => ParseAbridgedFrame(p)),
        Wire.ObfuscatedIntermediate => ParseObfuscated(data, 0xee, p => ParseIntermediateFrame(p, padded: false)),
        Wire.ObfuscatedPadded => ParseObfuscated(data, 0xdd, p => ParseIntermediateFrame(p, padded: true)),
        _ => throw new ArgumentOutOfRangeException(nameof(wire)),
    };

    // Full: len:int32 (whole frame) seq:int32 (0 first) payload crc32(len+seq+payload).
    private static Parsed ParseFull(byte[] data)
    {
        if (data.Length < 8) return Incomplete;
        int len = BinaryPrimitives.ReadInt32LittleEndian(data);
        int seq = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(4));
        if (seq != 0) return Fail($"full transport: bytes 4..8 (seq_no of the first frame) must be 0, got {seq}");
        if (len < 12 || len > 1 << 20 || len % 4 != 0) return Fail($"full transport: bad length {len}");
        if (data.Length < len) return Incomplete;
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(len - 4));
        uint expected = Crc32.HashToUInt32(data.AsSpan(0, len - 4));
        if (crc != expected) return Fail($"full transport: crc32 {crc:x8} != {expected:x8}");
        return new Parsed(data[8..(len - 4)], null);
    }

    // Abridged: len/4 in one byte (< 0x7f) or 0x7f + 3 bytes LE, then the payload.
    private static Parsed ParseAbridgedFrame(ReadOnlySpan<byte> data)
    {
        if (data.Length < 1) return Incomplete;
        int header = 1;
        int words = data[0];
        if (words >= 0x7f)
        {
            if (data.Length < 4) return Incomplete;
            words = data[1] | data[2] << 8 | data[3] << 16;
            header = 4;
        }
        int len = words * 4;
        if (data.Length < header + len) return Incomplete;
        return new Parsed(data.Slice(header, len).ToArray(), null);
    }

    private static Parsed ParseTagged(byte[] data, byte tagByte, bool padded)
    {
        if (data.Length < 4) return Incomplete;
        if (data.AsSpan(0, 4).IndexOfAnyExcept(tagByte) >= 0) return Fail($"expected tag {tagByte:x2}{tagByte:x2}{tagByte:x2}{tagByte:x2}, got {Convert.ToHexString(data.AsSpan(0, 4))}");
        return ParseIntermediateFrame(data.AsSpan(4), padded);
    }

    // (Padded) intermediate: len:int32 then len bytes; padded adds 0..15 random bytes counted in len.
    private static Parsed ParseIntermediateFrame(ReadOnlySpan<byte> data, bool padded)
    {
        if (data.Length < 4) return Incomplete;
        int len = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (len <= 0 || len > 1 << 20) return Fail($"intermediate: bad length {len}");
        if (!padded && len % 4 != 0) return Fail($"intermediate: length {len} is not a multiple of 4");
        if (data.Length < 4 + len) return Incomplete;
        ReadOnlySpan<byte> body = data.Slice(4, len);
        if (!padded) return new Parsed(body.ToArray(), null);
        // The unencrypted message says its own length; an encrypted one is 24 + 16k bytes.
        bool unencrypted = len >= 20 && BinaryPrimitives.ReadInt64LittleEndian(body) == 0;
        int real = unencrypted ? 20 + BinaryPrimitives.ReadInt32LittleEndian(body[16..]) : 24 + (len - 24) / 16 * 16;
        int pad = len - real;
        if (pad is < 0 or > 15) return Fail($"padded intermediate: {pad} padding bytes (0..15 allowed) in a {len}-byte frame");
        return new Parsed(body[..real].ToArray(), null);
    }

    // Obfuscated: 64-byte init; AES-256-CTR with key init[8..40], iv init[40..56] decrypts the init (tag at 56..60)
    // and then the rest of the stream.
    private static Parsed ParseObfuscated(byte[] data, byte tagByte, Func<byte[], Parsed> inner)
    {
        if (data.Length < 64) return Incomplete;
        if (data[0] == 0xef) return Fail("obfuscated init must not start with 0xef (abridged)");
        if (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4)) == 0) return Fail("obfuscated init: bytes 4..8 must not be zero (full)");
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (first is 0xeeeeeeee or 0xdddddddd or 0x44414548 or 0x54534f50 or 0x20544547 or 0x4954504f or 0x02010316)
        {
            return Fail($"obfuscated init starts with a reserved word {first:x8}");
        }
        byte[] plain = new byte[data.Length];
        using (var ctr = new AesCtr(data.AsSpan(8, 32), data.AsSpan(40, 16)))
        {
            ctr.Transform(data, plain);
        }
        if (plain.AsSpan(56, 4).IndexOfAnyExcept(tagByte) >= 0)
        {
            return Fail($"obfuscated init: decrypted tag {Convert.ToHexString(plain.AsSpan(56, 4))}, expected {tagByte:x2}{tagByte:x2}{tagByte:x2}{tagByte:x2}");
        }
        return inner(plain[64..]);
    }
}
