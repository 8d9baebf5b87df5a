using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using MtActors.Protocol.Transport;

namespace MtActors.Client.Bench;

/// <summary>
/// The baseline of the bench: a bare TCP server speaking the same MTProto transport framing (detected from the first
/// bytes, obfuscation included) that sends every frame straight back, without any crypto, session or grain.
/// </summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly List<Task> _connections = [];
    private long _frames;

    public EchoServer(IPAddress address, int port)
    {
        _listener = new TcpListener(address, port);
        _listener.Start(1024);
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _accept = Task.Run(AcceptLoop);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Frames echoed so far.</summary>
    public long Frames => Interlocked.Read(ref _frames);

    private async Task AcceptLoop()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
                socket.NoDelay = true;
                lock (_connections)
                {
                    _connections.RemoveAll(t => t.IsCompleted);
                    _connections.Add(Task.Run(() => Serve(socket)));
                }
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
        // Both pipes leave the stream open (it is disposed last, above): completing the reader first must not dispose it
        // under the writer's final flush.
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        using var transport = new ServerTransport(new TransportOptions { MaxPayloadLength = 4 << 20 });
        var scratch = new byte[4096];
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                bool close = false;
                while (transport.TryReadFrame(ref buffer, out var frame))
                {
                    if (frame.Kind != TransportFrameKind.Payload)
                    {
                        close = frame.Kind == TransportFrameKind.Error;
                        if (close) break;
                        continue;
                    }
                    int length = (int)frame.Payload.Length;
                    if (scratch.Length < length) scratch = new byte[Math.Max(length, scratch.Length * 2)];
                    frame.Payload.CopyTo(scratch);
                    transport.WriteFrame(scratch.AsSpan(0, length), writer);
                    Interlocked.Increment(ref _frames);
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                var flush = await writer.FlushAsync(_stop.Token).ConfigureAwait(false);
                if (close || result.IsCompleted || flush.IsCompleted) break;
            }
        }
        catch (Exception e) when (IsGone(e))
        {
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        try
        {
            await writer.CompleteAsync().ConfigureAwait(false); // flushes what is still buffered: the client may be gone
        }
        catch (Exception e) when (IsGone(e))
        {
        }
    }

    private static bool IsGone(Exception e) =>
        e is OperationCanceledException or IOException or SocketException or ObjectDisposedException;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accept.ConfigureAwait(false);
        Task[] all;
        lock (_connections) all = [.. _connections];
        await Task.WhenAny(Task.WhenAll(all), Task.Delay(5000)).ConfigureAwait(false);
        _stop.Dispose();
    }
}
