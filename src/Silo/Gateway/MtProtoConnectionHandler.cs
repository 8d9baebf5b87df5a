using Microsoft.AspNetCore.Connections;
using MtActors.Protocol.Transport;

namespace MtActors.Silo.Gateway;

/// <summary>
/// Serves one MTProto TCP connection (System.IO.Pipelines; the Kestrel connection-handler shape). Applies the silo-wide
/// connection limit: past <see cref="MtProtoGatewayOptions.MaxConnections"/> the client's first frame is answered with
/// transport error -429 and the connection is closed. Never throws for anything the peer does.
/// </summary>
public sealed class MtProtoConnectionHandler : ConnectionHandler
{
    private static readonly TimeSpan RejectTimeout = TimeSpan.FromSeconds(5);

    private readonly MtProtoGateway _gateway;

    internal MtProtoConnectionHandler(MtProtoGateway gateway) => _gateway = gateway;

    /// <inheritdoc />
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!_gateway.TryOpenConnection())
        {
            await RejectAsync(connection);
            return;
        }

        try
        {
            var served = new MtProtoConnection(connection, _gateway);
            await served.RunAsync();
        }
        finally
        {
            _gateway.ConnectionEnded();
        }
    }

    /// <summary>Reads until the transport is known (its first frame), answers -429 in that framing, closes.</summary>
    private async Task RejectAsync(ConnectionContext connection)
    {
        var id = _gateway.NextConnectionId();
        if (!_gateway.TryStartRejecting())
        {
            connection.Abort();
            return;
        }

        try
        {
            _gateway.Logger.LimitReached(id, "connection", _gateway.Options.MaxConnections);
            using var codec = new ServerTransport(_gateway.TransportOptions);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
            timeout.CancelAfter(RejectTimeout);
            var input = connection.Transport.Input;
            var detected = false;
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                var buffer = result.Buffer;
                var got = codec.TryReadFrame(ref buffer, out var frame);
                var kind = frame.Kind;
                input.AdvanceTo(buffer.Start, buffer.End);
                if (got)
                {
                    detected = kind == TransportFrameKind.Payload;
                    break;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            if (detected)
            {
                codec.WriteTransportError(TransportErrorCodes.Flood, connection.Transport.Output);
                await connection.Transport.Output.FlushAsync(timeout.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException
                                       or ConnectionAbortedException or InvalidOperationException)
        {
            // the peer went away or was too slow: nothing to answer
        }
        finally
        {
            await connection.Transport.Output.CompleteAsync();
            await connection.Transport.Input.CompleteAsync();
            _gateway.RejectingEnded();
        }
    }
}
