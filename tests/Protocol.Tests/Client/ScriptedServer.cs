using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tests.Handshake;
using MtActors.Protocol.Tl;
using MtActors.Protocol.Transport;

namespace MtActors.Protocol.Tests.Client;

/// <summary>
/// A small MTProto server on 127.0.0.1 for the client library's tests: the real <see cref="ServerHandshake"/> and
/// transports, and a scripted session layer (salt check, clock check, new_session_created, ping, echo, gzip results,
/// rpc_error, destroy_session). It records every message it receives.
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    public const uint EchoId = 0x19e170e9;
    public const uint GzipEchoId = 0x0badc0de;   // answered with rpc_result(gzip_packed(echo))
    public const uint SilentId = 0x51be5111;     // never answered
    public const uint KillId = 0x0dead404;       // answered with transport error -404

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly ConcurrentDictionary<long, AuthKey> _keys = new();
    private readonly ConcurrentDictionary<(long, long), SessionState> _sessions = new();
    private readonly List<Task> _connections = [];

    public ScriptedServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = Task.Run(AcceptLoop);
    }

    public int Port { get; }

    /// <summary>The salt the server requires (0 = any salt is fine).</summary>
    public long Salt { get; set; } = 0x1122334455667788;

    /// <summary>Server clock minus real clock (simulates client clock skew).</summary>
    public TimeSpan ClockSkew { get; set; }

    /// <summary>Every message received (container items flattened), with its auth key and session.</summary>
    public ConcurrentQueue<(long AuthKeyId, long SessionId, long MsgId, int SeqNo, long Salt, byte[] Body)> Received { get; } = new();

    public void AddKey(AuthKey key) => _keys[key.Id] = key;

    public bool HasSession(long authKeyId, long sessionId) => _sessions.ContainsKey((authKeyId, sessionId));

    private async Task AcceptLoop()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                lock (_connections) _connections.Add(Task.Run(() => Serve(socket)));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task Serve(Socket socket)
    {
        using var s = socket;
        await using var stream = new NetworkStream(socket);
        // The stream outlives both pipes (disposed last, by the using above): completing the reader must not dispose it
        // under the writer's final flush.
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        using var transport = new ServerTransport();
        using var handshake = new ServerHandshake(TestKeys.Set, new ServerHandshakeOptions { DcId = 2 });
        long lastPlainId = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                bool close = false;
                while (!close && transport.TryReadFrame(ref buffer, out var frame))
                {
                    if (frame.Kind != TransportFrameKind.Payload)
                    {
                        close = true;
                        break;
                    }
                    var bytes = frame.Payload.ToArray();
                    long keyId = BinaryPrimitives.ReadInt64LittleEndian(bytes);
                    if (keyId == 0)
                    {
                        UnencryptedMessage.TryRead(bytes, out _, out var body);
                        byte[]? answer = handshake.Handle(body) switch
                        {
                            HandshakeOutcome.Reply r => r.Body,
                            HandshakeOutcome.KeyReady k => Accept(handshake, k),
                            _ => null,
                        };
                        if (answer is null)
                        {
                            transport.WriteTransportError(-404, writer);
                            close = true;
                        }
                        else
                        {
                            lastPlainId = MsgIds.NextServer(lastPlainId, DateTimeOffset.UtcNow, true);
                            transport.WriteFrame(UnencryptedMessage.Create(lastPlainId, answer), writer);
                        }
                        continue;
                    }
                    if (!_keys.TryGetValue(keyId, out var key))
                    {
                        transport.WriteTransportError(-404, writer);
                        close = true;
                        continue;
                    }
                    if (MessageCipher.DecryptInPlace(key, MessageSender.Client, bytes, out var msg) != MessageDecryptError.None) continue;
                    if (frame.QuickAckRequested) transport.TryWriteQuickAck(msg.QuickAckToken, writer);
                    var state = _sessions.GetOrAdd((key.Id, msg.SessionId), _ => new SessionState());
                    List<byte[]> replies;
                    lock (state) replies = Process(key, msg.Header, msg.Body.ToArray(), state, out close);
                    foreach (var frameBytes in replies)
                    {
                        if (frameBytes.Length == 4) transport.WriteTransportError(BinaryPrimitives.ReadInt32LittleEndian(frameBytes), writer);
                        else transport.WriteFrame(frameBytes, writer);
                    }
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                await writer.FlushAsync(_stop.Token);
                if (close || result.IsCompleted) break;
            }
        }
        catch (Exception e) when (IsGone(e))
        {
        }
        await reader.CompleteAsync();
        try
        {
            await writer.CompleteAsync(); // flushes what is still buffered: the client may have gone meanwhile
        }
        catch (Exception e) when (IsGone(e))
        {
        }
    }

    private static bool IsGone(Exception e) =>
        e is OperationCanceledException or IOException or SocketException or ObjectDisposedException;

    private byte[] Accept(ServerHandshake handshake, HandshakeOutcome.KeyReady ready)
    {
        var key = ready.Key.ToAuthKey();
        if (!_keys.TryAdd(key.Id, key)) return handshake.RejectKey();
        return handshake.AcceptKey();
    }

    private sealed class SessionState
    {
        public bool Created;
        public long LastMsgId;
        public int ContentCount;
    }

    private DateTimeOffset Now => DateTimeOffset.UtcNow + ClockSkew;

    private List<byte[]> Process(AuthKey key, MessageHeader header, byte[] body, SessionState state, out bool close)
    {
        close = false;
        var outgoing = new List<(long MsgId, int SeqNo, byte[] Body)>();
        var frames = new List<byte[]>();
        long Next(bool response) => state.LastMsgId = MsgIds.NextServer(state.LastMsgId, Now, response);
        int Seq(bool content) => content ? 2 * state.ContentCount++ + 1 : 2 * state.ContentCount;
        void Add(byte[] b, bool content) => outgoing.Add((Next(true), Seq(content), b));

        // Clock and salt are checked on the top-level message only.
        long seconds = MsgIds.Seconds(header.MsgId);
        long now = Now.ToUnixTimeSeconds();
        if (seconds > now + 30 || seconds < now - 300)
        {
            Add(new BadMsgNotification(header.MsgId, header.SeqNo, seconds > now ? 17 : 16).ToBytes(), false);
        }
        else if (Salt != 0 && header.Salt != Salt)
        {
            Add(new BadServerSalt(header.MsgId, header.SeqNo, 48, Salt).ToBytes(), false);
        }
        else
        {
            if (!state.Created)
            {
                state.Created = true;
                Add(new NewSessionCreated(header.MsgId, 42, Salt).ToBytes(), true);
            }
            var items = new List<(long, int, byte[])>();
            if (BinaryPrimitives.ReadUInt32LittleEndian(body) == ConstructorIds.MsgContainer)
            {
                var r = new TlReader(body);
                MsgContainer.TryReadHeader(ref r, out int count);
                for (int i = 0; i < count && MsgContainer.TryReadItem(ref r, out var item); i++) items.Add((item.MsgId, item.SeqNo, item.Body.ToArray()));
                Received.Enqueue((key.Id, header.SessionId, header.MsgId, header.SeqNo, header.Salt, body));
            }
            else
            {
                items.Add((header.MsgId, header.SeqNo, body));
            }
            foreach (var (msgId, seqNo, itemBody) in items)
            {
                Received.Enqueue((key.Id, header.SessionId, msgId, seqNo, header.Salt, itemBody));
                uint id = BinaryPrimitives.ReadUInt32LittleEndian(itemBody);
                switch (id)
                {
                    case ConstructorIds.Ping:
                        Add(new Pong(msgId, BinaryPrimitives.ReadInt64LittleEndian(itemBody.AsSpan(4))).ToBytes(), false);
                        break;
                    case ConstructorIds.MsgsAck:
                        break;
                    case ConstructorIds.GetFutureSalts:
                        Add(new FutureSalts(msgId, (int)now, [new FutureSalt((int)now, (int)now + 1800, Salt)]).ToBytes(), false);
                        break;
                    case ConstructorIds.DestroySession:
                        long target = BinaryPrimitives.ReadInt64LittleEndian(itemBody.AsSpan(4));
                        bool existed = target != header.SessionId && _sessions.TryRemove((key.Id, target), out _);
                        Add(existed ? new DestroySessionOk(target).ToBytes() : new DestroySessionNone(target).ToBytes(), false);
                        break;
                    case EchoId:
                        Add(Rpc(msgId, itemBody), true);
                        break;
                    case GzipEchoId:
                        using (var w = new TlWriter())
                        {
                            GzipPacked.Write(w, itemBody);
                            Add(Rpc(msgId, w.ToArray()), true);
                        }
                        break;
                    case SilentId:
                        break;
                    case KillId:
                        frames.Add(BitConverter.GetBytes(-404));
                        close = true;
                        return frames;
                    default:
                        Add(Rpc(msgId, new RpcError(400, "METHOD_INVALID").ToBytes()), true);
                        break;
                }
            }
        }
        if (outgoing.Count == 0) return frames;
        long salt = Salt;
        if (outgoing.Count == 1)
        {
            frames.Add(Seal(key, new MessageHeader(salt, header.SessionId, outgoing[0].MsgId, outgoing[0].SeqNo), outgoing[0].Body));
        }
        else
        {
            using var w = new TlWriter();
            MsgContainer.WriteHeader(w, outgoing.Count);
            foreach (var (m, s, b) in outgoing) MsgContainer.WriteItem(w, m, s, b);
            frames.Add(Seal(key, new MessageHeader(salt, header.SessionId, Next(false), Seq(false)), w.ToArray()));
        }
        return frames;
    }

    private static byte[] Rpc(long reqMsgId, byte[] result)
    {
        using var w = new TlWriter();
        RpcResult.Write(w, reqMsgId, result);
        return w.ToArray();
    }

    private static byte[] Seal(AuthKey key, MessageHeader header, byte[] body)
    {
        var frame = new byte[MessageCipher.GetEncryptedLength(body.Length)];
        MessageCipher.Encrypt(key, MessageSender.Server, header, body, frame);
        return frame;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accept;
        Task[] all;
        lock (_connections) all = [.. _connections];
        await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
