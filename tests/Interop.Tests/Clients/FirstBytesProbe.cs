using System.Net;
using System.Net.Sockets;

namespace MtActors.Interop.Tests.Clients;

/// <summary>
/// A fake server that accepts ONE connection on 127.0.0.1 (free port) and records the first bytes the client sends,
/// then closes. It proves the harness without our server: the port pinning, the transport framing, the first message.
/// </summary>
public sealed class FirstBytesProbe : IDisposable
{
    private readonly TcpListener _listener;

    private FirstBytesProbe(TcpListener listener)
    {
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public int Port { get; }

    public static FirstBytesProbe Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 1);
        return new FirstBytesProbe(listener);
    }

    /// <summary>
    /// Accepts one connection and reads until <paramref name="complete"/> says the bytes so far are enough, the client
    /// closes, or <paramref name="timeout"/> passes (then it returns what it has). The listener stops after the accept,
    /// so later reconnect attempts of the client are refused instead of queueing.
    /// </summary>
    public async Task<byte[]> CaptureAsync(Func<byte[], bool> complete, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var buffer = new MemoryStream();
        Socket socket;
        try
        {
            socket = await _listener.AcceptSocketAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return [];
        }
        finally
        {
            _listener.Stop();
        }
        using (socket)
        {
            var chunk = new byte[4096];
            try
            {
                while (buffer.Length < 1 << 16)
                {
                    int n = await socket.ReceiveAsync(chunk, SocketFlags.None, cts.Token).ConfigureAwait(false);
                    if (n == 0) break;
                    buffer.Write(chunk, 0, n);
                    if (complete(buffer.ToArray())) break;
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (SocketException)
            {
            }
        }
        return buffer.ToArray();
    }

    public void Dispose() => _listener.Stop();
}
