using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tests.Handshake;
using MtActors.Protocol.Tl;
using MtActors.Protocol.Transport;

namespace MtActors.Interop.Tests.CSharpClient;

/// <summary>
/// A minimal MTProto client in C# for smoke tests that need no Node.js: one TCP connection, any transport, the key
/// exchange done by the handshake tests' independent client (<see cref="TestClient"/>: own TL, RSA, DH), then encrypted
/// messages with MessageCipher. Every wait is bounded by <see cref="Timeout"/>.
/// </summary>
public sealed class MtProtoTestClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly ClientTransport _transport;
    private readonly byte[] _receiveBuffer = new byte[64 * 1024];
    private readonly Queue<byte[]> _frames = new();
    private ReadOnlySequence<byte> _pending = ReadOnlySequence<byte>.Empty;
    private byte[] _pendingBytes = [];
    private long _lastMsgId;
    private int _seqNo;

    private MtProtoTestClient(Socket socket, ClientTransport transport)
    {
        _socket = socket;
        _transport = transport;
        SessionId = BinaryPrimitives.ReadInt64LittleEndian(RandomNumberGenerator.GetBytes(8));
    }

    /// <summary>Bound of every single wait (connect, one frame).</summary>
    public static TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    public AuthKey? Key { get; private set; }

    public long SessionId { get; set; }

    /// <summary>The salt put in the next message (0 until the server told one).</summary>
    public long Salt { get; set; }

    /// <summary>How many dh_gen_retry answers the last key exchange got.</summary>
    public int DhGenRetries { get; private set; }

    /// <summary>Quick-ack tokens received (abridged / intermediate transports).</summary>
    public List<uint> QuickAcks { get; } = [];

    public static async Task<MtProtoTestClient> ConnectAsync(int port, TransportKind kind, bool obfuscated = false)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new MtProtoTestClient(socket, new ClientTransport(kind, obfuscated));
    }

    /// <summary>Uses a key that already exists on the server (pre-shared).</summary>
    public void UseKey(byte[] key) => Key = new AuthKey(key);

    /// <summary>
    /// Creates an auth key against <paramref name="publicKeyPem"/> (req_pq_multi, req_DH_params with RSA_PAD and
    /// p_q_inner_data_dc, set_client_DH_params, answering dh_gen_retry with a new b). Returns the new key; the first
    /// server salt is in <see cref="Salt"/>.
    /// </summary>
    /// <param name="shortKeyFirst">
    /// Draw the first b so that g^ab has a zero top byte (the key real clients would keep as 255 bytes); the server must
    /// answer that attempt with dh_gen_retry (counted in <see cref="DhGenRetries"/>).
    /// </param>
    public async Task<AuthKey> CreateKeyAsync(string publicKeyPem, int dcId = 2, int seed = 0, bool shortKeyFirst = false)
    {
        var client = new TestClient(publicKeyPem, seed == 0 ? Random.Shared.Next() : seed);
        client.ReadResPq(await PlainRoundTripAsync(client.ReqPq()));
        if (Array.IndexOf(client.ServerFingerprints, client.Fingerprint) < 0)
        {
            throw new InvalidOperationException(
                $"The server does not advertise fingerprint {client.Fingerprint:x16} (it has {string.Join(", ", client.ServerFingerprints.Select(f => f.ToString("x16")))}).");
        }

        var inner = client.InnerData(TestClient.PqInnerDc, dc: dcId);
        client.ReadServerDhParamsOk(await PlainRoundTripAsync(client.ReqDhParams(client.RsaPad(inner))));
        DhGenRetries = 0;
        if (shortKeyFirst)
        {
            // b, b+1, b+2, ...: each step multiplies the key by g_a (one modular multiplication instead of a 2048-bit
            // exponentiation), until g^ab < 2^2040, about 256 steps.
            client.NewB();
            var key = System.Numerics.BigInteger.ModPow(client.GA, client.B, TestClient.KnownPrime);
            while (TestClient.ToBe(key, 256)[0] != 0)
            {
                client.B += 1;
                key = key * client.GA % TestClient.KnownPrime;
            }

            var retry = await PlainRoundTripAsync(client.SetClientDhParams());
            // The server answers as a client holding the 255-byte key expects: new_nonce_hash2 over the aux hash of
            // the stripped key (real-clients.md §5.1), and that aux hash is the retry_id the client sends next.
            var stripped = TestClient.ToMinBe(key);
            var strippedSha = SHA1.HashData(stripped);
            var expectedHash = SHA1.HashData([.. client.NewNonce, 2, .. strippedSha.AsSpan(0, 8)]).AsSpan(4).ToArray();
            if (BinaryPrimitives.ReadUInt32LittleEndian(retry) != TestClient.DhGenRetryId
                || !retry.AsSpan(36, 16).SequenceEqual(expectedHash))
            {
                throw new InvalidOperationException(
                    $"A 255-byte key was answered 0x{BinaryPrimitives.ReadUInt32LittleEndian(retry):x8}, not dh_gen_retry with the stripped key's hash.");
            }

            client.RetryId = BinaryPrimitives.ReadInt64LittleEndian(strippedSha);
            DhGenRetries++;
        }

        while (true)
        {
            client.NewB();
            var answer = await PlainRoundTripAsync(client.SetClientDhParams());
            var result = client.ReadDhGen(answer);
            if (result == TestClient.DhGenOkId)
            {
                Key = new AuthKey(client.AuthKey);
                Salt = client.InitialSalt;
                return Key;
            }

            if (result != TestClient.DhGenRetryId || ++DhGenRetries > 5)
            {
                throw new InvalidOperationException($"Key exchange ended with 0x{result:x8} after {DhGenRetries} retries.");
            }
        }
    }

    /// <summary>Sends bytes as they are (no framing): for malformed-input tests.</summary>
    public async Task SendRawAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(bytes, SocketFlags.None, timeout.Token);
    }

    /// <summary>Sends one unencrypted message (framed by the transport).</summary>
    public Task SendPlainAsync(byte[] body) => SendPayloadAsync(UnencryptedMessage.Create(NextMsgId(), body));

    /// <summary>Sends an unencrypted message and returns the body of the answer (throws on a transport error).</summary>
    public async Task<byte[]> PlainRoundTripAsync(byte[] body)
    {
        await SendPayloadAsync(UnencryptedMessage.Create(NextMsgId(), body));
        var frame = await ReceivePayloadAsync();
        ThrowIfTransportError(frame);
        var error = UnencryptedMessage.TryRead(frame, out _, out var answer);
        return error == HandshakeError.None ? answer.ToArray() : throw new InvalidDataException($"Bad unencrypted answer: {error}");
    }

    /// <summary>Encrypts one message (<paramref name="body"/> is a boxed TL object); returns its msg_id.</summary>
    public async Task<long> SendAsync(byte[] body, bool contentRelated = true, bool quickAck = false)
    {
        var key = Key ?? throw new InvalidOperationException("No auth key.");
        var msgId = NextMsgId();
        var seqNo = contentRelated ? _seqNo++ * 2 + 1 : _seqNo * 2;
        var frame = new byte[MessageCipher.GetEncryptedLength(body.Length)];
        MessageCipher.Encrypt(key, MessageSender.Client, new MessageHeader(Salt, SessionId, msgId, seqNo), body, frame, 0,
            out var token);
        LastQuickAckToken = token;
        await SendPayloadAsync(frame, quickAck);
        return msgId;
    }

    /// <summary>The quick-ack token of the last encrypted message sent (what the server answers a quick-ack request with).</summary>
    public uint LastQuickAckToken { get; private set; }

    /// <summary>
    /// Receives frames until one decrypts to a message; returns its top-level body with header. Throws
    /// <see cref="TransportErrorException"/> for a transport error, <see cref="EndOfStreamException"/> when the server closes.
    /// </summary>
    public async Task<(MessageHeader Header, byte[] Body)> ReceiveAsync()
    {
        var key = Key ?? throw new InvalidOperationException("No auth key.");
        while (true)
        {
            var frame = await ReceivePayloadAsync();
            ThrowIfTransportError(frame);
            var plain = new byte[frame.Length];
            var error = MessageCipher.Decrypt(key, MessageSender.Server, frame, plain, out var message);
            if (error != MessageDecryptError.None)
            {
                throw new InvalidDataException($"A server frame does not decrypt: {error}");
            }

            if (message.SessionId != SessionId)
            {
                throw new InvalidDataException($"The server answered in session {message.SessionId}, not {SessionId}.");
            }

            if ((message.MsgId & 1) == 0)
            {
                throw new InvalidDataException($"Server msg_id {message.MsgId} is even.");
            }

            return (message.Header, message.Body.ToArray());
        }
    }

    /// <summary>
    /// Receives messages (container contents unpacked) until <paramref name="match"/> accepts one; handles
    /// bad_server_salt by adopting the salt and calling <paramref name="onBadSalt"/> (to resend), and new_session_created
    /// by adopting its salt. Returns every service object seen, the matched one last.
    /// </summary>
    public async Task<List<TlObject>> ReceiveUntilAsync(Func<TlObject, bool> match, Func<BadServerSalt, Task>? onBadSalt = null)
    {
        var seen = new List<TlObject>();
        while (true)
        {
            var (_, body) = await ReceiveAsync();
            foreach (var obj in Unpack(body))
            {
                seen.Add(obj);
                switch (obj)
                {
                    case BadServerSalt bad:
                        Salt = bad.NewServerSalt;
                        if (onBadSalt is not null)
                        {
                            await onBadSalt(bad);
                        }

                        break;
                    case NewSessionCreated created:
                        Salt = created.ServerSalt;
                        break;
                }

                if (match(obj))
                {
                    return seen;
                }
            }
        }
    }

    /// <summary>ping with salt as it is (0 at first): resends after bad_server_salt; returns the pong and what came with it.</summary>
    public async Task<(Pong Pong, List<TlObject> Seen)> PingAsync(long pingId)
    {
        var body = new Ping(pingId).ToBytes();
        await SendAsync(body, contentRelated: true);
        var seen = await ReceiveUntilAsync(o => o is Pong p && p.PingId == pingId, async _ => await SendAsync(body));
        return ((Pong)seen[^1], seen);
    }

    /// <summary>The service objects of a message body: a container's items, or the object itself.</summary>
    public static List<TlObject> Unpack(byte[] body)
    {
        var result = new List<TlObject>();
        var reader = new TlReader(body);
        if (reader.PeekUInt32() == ConstructorIds.MsgContainer)
        {
            if (!MsgContainer.TryReadHeader(ref reader, out var count))
            {
                throw new InvalidDataException("Bad msg_container header.");
            }

            for (var i = 0; i < count; i++)
            {
                if (!MsgContainer.TryReadItem(ref reader, out var item))
                {
                    throw new InvalidDataException("Bad msg_container item.");
                }

                result.Add(ReadOne(item.Body));
            }

            return result;
        }

        result.Add(ReadOne(body));
        return result;
    }

    private static TlObject ReadOne(ReadOnlySpan<byte> body) =>
        ServiceSchema.TryRead(body, out var value, out var error)
            ? value
            : new UnknownObject(body.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(body) : 0, error);

    private long NextMsgId()
    {
        var id = MsgIds.FromTime(DateTimeOffset.UtcNow) & ~3L;
        if (id <= _lastMsgId)
        {
            id = _lastMsgId + 4;
        }

        _lastMsgId = id;
        return id;
    }

    private async Task SendPayloadAsync(byte[] payload, bool quickAck = false)
    {
        var frame = new byte[_transport.GetMaxFrameLength(payload.Length)];
        var length = _transport.WriteFrame(payload, frame, quickAck);
        using var timeout = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(frame.AsMemory(0, length), SocketFlags.None, timeout.Token);
    }

    /// <summary>Next transport payload (quick acks are recorded and skipped).</summary>
    public async Task<byte[]> ReceivePayloadAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            while (_frames.Count == 0)
            {
                var buffer = _pending;
                while (_transport.TryReadFrame(ref buffer, out var frame))
                {
                    switch (frame.Kind)
                    {
                        case TransportFrameKind.Payload:
                            _frames.Enqueue(frame.Payload.ToArray());
                            break;
                        case TransportFrameKind.QuickAck:
                            QuickAcks.Add(frame.QuickAckToken);
                            break;
                        default:
                            throw new InvalidDataException($"Bad transport stream from the server: {frame.Error}");
                    }
                }

                _pendingBytes = buffer.ToArray();
                _pending = new ReadOnlySequence<byte>(_pendingBytes);
                if (_frames.Count > 0)
                {
                    break;
                }

                var n = await _socket.ReceiveAsync(_receiveBuffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    throw new EndOfStreamException("The server closed the connection.");
                }

                _pendingBytes = [.. _pendingBytes, .. _receiveBuffer.AsSpan(0, n)];
                _pending = new ReadOnlySequence<byte>(_pendingBytes);
            }

            return _frames.Dequeue();
        }
    }

    /// <summary>True when the server closes the connection within <paramref name="within"/> (frames before that are skipped).</summary>
    public async Task<bool> WaitClosedAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static void ThrowIfTransportError(byte[] frame)
    {
        if (frame.Length == 4 && BinaryPrimitives.ReadInt32LittleEndian(frame) is < 0 and var code)
        {
            throw new TransportErrorException(code);
        }
    }

    public ValueTask DisposeAsync()
    {
        _transport.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The server answered with a 4-byte transport error (-404, -429, -444).</summary>
public sealed class TransportErrorException(int code) : Exception($"Transport error {code}")
{
    public int Code { get; } = code;
}

/// <summary>A message the service schema does not know (e.g. an rpc_result payload type).</summary>
public sealed record UnknownObject(uint Id, TlError Error) : TlObject
{
    public override uint ConstructorId => Id;

    public override void WriteTo(TlWriter writer) => throw new NotSupportedException();
}
