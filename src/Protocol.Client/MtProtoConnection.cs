using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using MtActors.Protocol.Client.Handshake;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Transport;

namespace MtActors.Protocol.Client;

/// <summary>
/// One MTProto TCP connection from the client side: a transport codec (<see cref="ClientTransport"/>) over
/// System.IO.Pipelines, one read loop and one write loop. It creates auth keys (<see cref="CreateAuthKeyAsync"/>)
/// and carries any number of <see cref="MtProtoSession"/>s (of one or several auth keys): received encrypted frames
/// are decrypted once and handed to the session named inside.
/// </summary>
/// <remarks>
/// Frames go out in the order they are queued, several per socket write when they queue up. When the server closes
/// the connection, sends a transport error or breaks the framing, every session on it fails its pending calls and
/// <see cref="Completion"/> finishes. A connection is not reopened: open a new one and new sessions (the same session
/// id may be reused on another connection).
/// </remarks>
public sealed class MtProtoConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly ClientTransport _transport;
    private readonly MtProtoConnectionOptions _options;
    private readonly Channel<OutgoingFrame> _outgoing = Channel.CreateUnbounded<OutgoingFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<byte[]> _unencrypted = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly ConcurrentDictionary<long, KeyRoute> _routes = new();
    private readonly SemaphoreSlim _handshakeGate = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ClientMsgIds _plainMsgIds = new();
    private readonly object _plainGate = new();
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private Exception? _fault;
    private int _disposed;

    private MtProtoConnection(Socket socket, MtProtoConnectionOptions options)
    {
        _socket = socket;
        _options = options;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        _writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        _transport = new ClientTransport(options.Transport, options.Obfuscated,
            new TransportOptions { MaxPayloadLength = options.MaxFramePayload, ObfuscationSecret = options.ObfuscationSecret }, options.ObfuscationDcId);
        RemoteEndPoint = socket.RemoteEndPoint!;
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <exception cref="SocketException">The server cannot be reached.</exception>
    /// <exception cref="TimeoutException">No connection within <see cref="MtProtoConnectionOptions.ConnectTimeout"/>.</exception>
    public static async Task<MtProtoConnection> ConnectAsync(string host, int port, MtProtoConnectionOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        if (port is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(port));
        options ??= new MtProtoConnectionOptions();
        options.Validate();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            if (IPAddress.TryParse(host, out var address)) await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
            else await socket.ConnectAsync(host, port, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"No TCP connection to {host}:{port} within {options.ConnectTimeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new MtProtoConnection(socket, options);
        connection.Start();
        return connection;
    }

    public EndPoint RemoteEndPoint { get; }

    public MtProtoConnectionOptions Options => _options;

    /// <summary>Finishes when the connection is closed; faulted with the reason when it was not closed by us.</summary>
    public Task Completion => _completion.Task;

    /// <summary>True until the connection closes or fails.</summary>
    public bool IsOpen => !_completion.Task.IsCompleted;

    /// <summary>The last transport error code the server sent (e.g. -404), or null.</summary>
    public int? LastTransportError { get; private set; }

    /// <summary>Raised on the read loop for every quick-ack token the server sends.</summary>
    public event Action<uint>? QuickAckReceived;

    /// <summary>Raised on the read loop for every transport error code the server sends (before the connection fails).</summary>
    public event Action<int>? TransportErrorReceived;

    /// <summary>Raised on the read loop for every encrypted frame no session here could take (unknown key, undecryptable, other session id).</summary>
    public event Action<ReadOnlyMemory<byte>>? UnroutedFrame;

    /// <summary>Frames received, and frames sent, so far.</summary>
    public long FramesReceived => Interlocked.Read(ref _framesReceived);
    public long FramesSent => Interlocked.Read(ref _framesSent);
    private long _framesReceived;
    private long _framesSent;

    private void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    // ---------------------------------------------------------------- auth keys

    /// <summary>
    /// Creates a new auth key with the server (spec §6) on this connection, following dh_gen_retry. One exchange at a time
    /// per connection.
    /// </summary>
    /// <exception cref="HandshakeFailedException">The server's answers failed a check, or it answered dh_gen_fail.</exception>
    /// <exception cref="TransportErrorException">The server refused with a transport error (-404, -444, -429).</exception>
    /// <exception cref="TimeoutException">An answer did not come within <see cref="MtProtoConnectionOptions.HandshakeTimeout"/>.</exception>
    public async Task<ClientAuthKey> CreateAuthKeyAsync(ClientHandshakeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var handshake = new ClientHandshake(options);
        await _handshakeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var body = handshake.Start();
            while (true)
            {
                SendUnencrypted(body);
                var answer = await ReceiveUnencryptedAsync(cancellationToken).ConfigureAwait(false);
                var error = UnencryptedMessage.TryRead(answer, out _, out var answerBody);
                if (error != HandshakeError.None)
                {
                    throw new HandshakeFailedException(ClientHandshakeError.Malformed, $"The server's unencrypted message is malformed ({error}).");
                }
                switch (handshake.Handle(answerBody))
                {
                    case ClientHandshakeStep.Send send:
                        body = send.Body;
                        break;
                    case ClientHandshakeStep.Completed done:
                        return done.Key;
                    case ClientHandshakeStep.Failed failed:
                        throw new HandshakeFailedException(failed.Error, failed.Message);
                }
            }
        }
        finally
        {
            _handshakeGate.Release();
        }
    }

    /// <summary>Sends one unencrypted message (auth_key_id 0) with a fresh client msg_id; returns the msg_id.</summary>
    public long SendUnencrypted(ReadOnlySpan<byte> body)
    {
        long msgId;
        lock (_plainGate) msgId = _plainMsgIds.Next();
        var buffer = ArrayPool<byte>.Shared.Rent(UnencryptedMessage.GetLength(body.Length));
        int n = UnencryptedMessage.Write(buffer, msgId, body);
        Enqueue(new OutgoingFrame(buffer, n, false));
        return msgId;
    }

    /// <summary>Waits for the next unencrypted frame from the server (the whole message, header included).</summary>
    public async Task<byte[]> ReceiveUnencryptedAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HandshakeTimeout);
        try
        {
            return await _unencrypted.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"The server did not answer within {_options.HandshakeTimeout.TotalSeconds:0.#} s.");
        }
        catch (ChannelClosedException ex)
        {
            throw ex.InnerException ?? Closed();
        }
    }

    // ---------------------------------------------------------------- sessions

    /// <summary>Opens an encrypted session with a key just created (salt and clock offset from the exchange).</summary>
    public MtProtoSession OpenSession(ClientAuthKey key, MtProtoSessionOptions? options = null) =>
        OpenSession(key.Key, key.InitialSalt, options, key.ServerTimeOffset);

    /// <summary>
    /// Opens an encrypted session with a known key. A wrong or zero <paramref name="salt"/> is fine: the server answers
    /// bad_server_salt and the session adopts the right one.
    /// </summary>
    public MtProtoSession OpenSession(AuthKey key, long salt = 0, MtProtoSessionOptions? options = null, TimeSpan timeOffset = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        options ??= new MtProtoSessionOptions();
        options.Validate();
        ThrowIfClosed();
        var route = _routes.GetOrAdd(key.Id, _ => new KeyRoute(key));
        var session = new MtProtoSession(this, key, salt, options, timeOffset);
        if (!route.Sessions.TryAdd(session.SessionId, session))
        {
            throw new InvalidOperationException($"Session {session.SessionId:x16} is already open on this connection.");
        }
        if (_fault is not null) session.Fail(_fault);
        return session;
    }

    internal void Detach(MtProtoSession session)
    {
        if (_routes.TryGetValue(session.AuthKey.Id, out var route)) route.Sessions.TryRemove(session.SessionId, out _);
    }

    // ---------------------------------------------------------------- raw frames

    /// <summary>Sends any transport payload as one frame (for protocol tests: malformed or unusual frames).</summary>
    public void SendFrame(ReadOnlySpan<byte> payload, bool quickAck = false)
    {
        if (payload.IsEmpty) throw new ArgumentException("A frame carries at least one byte.", nameof(payload));
        var buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(buffer);
        Enqueue(new OutgoingFrame(buffer, payload.Length, quickAck));
    }

    /// <summary>Queues a frame whose buffer was rented from <see cref="ArrayPool{T}.Shared"/>; the connection returns it.</summary>
    internal void Enqueue(OutgoingFrame frame)
    {
        if (!_outgoing.Writer.TryWrite(frame))
        {
            ArrayPool<byte>.Shared.Return(frame.Buffer);
            throw Closed();
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    try
                    {
                        bool quickAck = frame.QuickAck && _transport.SupportsQuickAck;
                        _transport.WriteFrame(frame.Buffer.AsSpan(0, frame.Length), _writer, quickAck);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(frame.Buffer);
                    }
                    Interlocked.Increment(ref _framesSent);
                }
                var flush = await _writer.FlushAsync(_closing.Token).ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled) break;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            Fault(new ConnectionClosedException("Writing to the server failed: " + ex.Message, ex));
        }
        finally
        {
            while (reader.TryRead(out var frame)) ArrayPool<byte>.Shared.Return(frame.Buffer);
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception? reason = null;
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(_closing.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                bool stop = false;
                while (!stop && _transport.TryReadFrame(ref buffer, out var frame))
                {
                    stop = HandleFrame(frame, out reason);
                }
                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (stop) break;
                if (result.IsCompleted || result.IsCanceled)
                {
                    reason = new ConnectionClosedException("The server closed the connection.");
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            reason = new ConnectionClosedException("Reading from the server failed: " + ex.Message, ex);
        }
        Fault(reason ?? Closed());
    }

    /// <summary>Handles one frame on the read loop; true stops the loop with <paramref name="reason"/>.</summary>
    private bool HandleFrame(in TransportFrame frame, out Exception? reason)
    {
        reason = null;
        switch (frame.Kind)
        {
            case TransportFrameKind.QuickAck:
                QuickAckReceived?.Invoke(frame.QuickAckToken);
                return false;
            case TransportFrameKind.Error:
                reason = new ConnectionClosedException($"The server's byte stream is invalid ({frame.Error}).");
                return true;
        }
        Interlocked.Increment(ref _framesReceived);
        if (frame.TryGetTransportErrorCode(out int code))
        {
            LastTransportError = code;
            TransportErrorReceived?.Invoke(code);
            reason = new TransportErrorException(code);
            return true;
        }
        var payload = frame.Payload;
        if (payload.Length < 8)
        {
            reason = new ConnectionClosedException($"The server sent a {payload.Length}-byte frame.");
            return true;
        }
        var bytes = payload.ToArray();
        long authKeyId = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (authKeyId == 0)
        {
            _unencrypted.Writer.TryWrite(bytes);
            return false;
        }
        if (!_routes.TryGetValue(authKeyId, out var route))
        {
            UnroutedFrame?.Invoke(bytes);
            return false;
        }
        var error = MessageCipher.DecryptInPlace(route.Key, MessageSender.Server, bytes, out var message);
        if (error != MessageDecryptError.None || !route.Sessions.TryGetValue(message.SessionId, out var session))
        {
            UnroutedFrame?.Invoke(bytes);
            return false;
        }
        session.OnMessage(message.Header, bytes.AsMemory(message.BodyOffset, message.Body.Length));
        return false;
    }

    private void Fault(Exception reason)
    {
        lock (_completion)
        {
            if (_fault is not null) return;
            _fault = reason;
        }
        _outgoing.Writer.TryComplete();
        _unencrypted.Writer.TryComplete(reason);
        foreach (var route in _routes.Values)
        {
            foreach (var session in route.Sessions.Values) session.Fail(reason);
        }
        if (Volatile.Read(ref _disposed) != 0 || reason is ConnectionClosedException { Message: ClosedByClient }) _completion.TrySetResult();
        else _completion.TrySetException(reason);
    }

    private const string ClosedByClient = "The connection was closed by the client.";

    private Exception Closed() => _fault ?? new ConnectionClosedException(ClosedByClient);

    private void ThrowIfClosed()
    {
        if (_fault is not null) throw _fault is MtProtoClientException ? _fault : new ConnectionClosedException(_fault.Message, _fault);
    }

    /// <summary>Closes the connection: pending calls of its sessions fail with <see cref="ConnectionClosedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _outgoing.Writer.TryComplete();
        // Let queued frames go out (bounded), then stop both loops.
        await Task.WhenAny(_writeLoop, Task.Delay(1000)).ConfigureAwait(false);
        Fault(new ConnectionClosedException(ClosedByClient));
        _closing.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        await Task.WhenAny(Task.WhenAll(_readLoop, _writeLoop), Task.Delay(2000)).ConfigureAwait(false);
        _socket.Dispose();
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _writer.CompleteAsync().ConfigureAwait(false);
        _stream.Dispose();
        _transport.Dispose();
        _handshakeGate.Dispose();
        _closing.Dispose();
    }

    public override string ToString() => $"MTProto connection to {RemoteEndPoint} ({_options.Transport}{(_options.Obfuscated ? ", obfuscated" : "")})";

    internal readonly record struct OutgoingFrame(byte[] Buffer, int Length, bool QuickAck);

    private sealed class KeyRoute(AuthKey key)
    {
        public AuthKey Key { get; } = key;
        public ConcurrentDictionary<long, MtProtoSession> Sessions { get; } = new();
    }
}
