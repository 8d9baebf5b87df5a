using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using MtActors.Protocol.Transport;

namespace MtActors.Client.Bench;

/// <summary>
/// The client side of the baseline: MTProto transport frames of a fixed size sent to an <see cref="EchoServer"/> and
/// matched with their echoes in order (the server answers one connection's frames first in, first out).
/// </summary>
internal sealed class BareConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly ClientTransport _transport;
    private readonly byte[] _frame;
    private readonly object _gate = new();
    private readonly Queue<TaskCompletionSource> _waiting = new();
    private readonly Channel<bool> _outgoing = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _readLoop;
    private readonly Task _writeLoop;
    private Exception? _fault;

    private BareConnection(Socket socket, TransportKind kind, bool obfuscated, int frameBytes)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        _writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        _transport = new ClientTransport(kind, obfuscated, new TransportOptions { MaxPayloadLength = 4 << 20 });
        _frame = new byte[frameBytes];
        Random.Shared.NextBytes(_frame);
        _frame[0] |= 1; // never an auth_key_id of zero, never a transport error code
        _readLoop = Task.Run(ReadLoop);
        _writeLoop = Task.Run(WriteLoop);
    }

    public static async Task<BareConnection> ConnectAsync(string host, int port, TransportKind kind, bool obfuscated, int frameBytes,
        TimeSpan timeout, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(host, port, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"No TCP connection to {host}:{port} within {timeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new BareConnection(socket, kind, obfuscated, frameBytes);
    }

    /// <summary>Sends one frame and completes when its echo is back.</summary>
    public Task RoundTripAsync()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_fault is not null) return Task.FromException(_fault);
            _waiting.Enqueue(tcs);
            _outgoing.Writer.TryWrite(true);
        }
        return tcs.Task;
    }

    private async Task WriteLoop()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out _)) _transport.WriteFrame(_frame, _writer);
                var flush = await _writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted) break;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Fail(ex);
        }
    }

    private async Task ReadLoop()
    {
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                while (_transport.TryReadFrame(ref buffer, out var frame))
                {
                    if (frame.Kind == TransportFrameKind.Error) throw new IOException($"The echo server's byte stream is invalid ({frame.Error}).");
                    TaskCompletionSource? tcs;
                    lock (_gate) _waiting.TryDequeue(out tcs);
                    tcs?.TrySetResult();
                }
                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) throw new IOException("The echo server closed the connection.");
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Fail(ex);
        }
    }

    private void Fail(Exception ex)
    {
        TaskCompletionSource[] waiting;
        lock (_gate)
        {
            _fault ??= ex;
            waiting = [.. _waiting];
            _waiting.Clear();
            _outgoing.Writer.TryComplete();
        }
        foreach (var w in waiting) w.TrySetException(ex);
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new ObjectDisposedException(nameof(BareConnection)));
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        _socket.Dispose();
        await Task.WhenAny(Task.WhenAll(_readLoop, _writeLoop), Task.Delay(2000)).ConfigureAwait(false);
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _writer.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _transport.Dispose();
    }
}
