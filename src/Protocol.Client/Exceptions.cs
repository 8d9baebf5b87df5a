using MtActors.Protocol.Client.Handshake;
using MtActors.Protocol.Schema;

namespace MtActors.Protocol.Client;

/// <summary>Base of the client library's errors.</summary>
public class MtProtoClientException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The server sent a transport error (-404 auth key unknown, -429 flood, -444 invalid DC, ...).</summary>
public sealed class TransportErrorException(int code)
    : MtProtoClientException($"The server sent transport error {code}{Describe(code)}.")
{
    public int Code { get; } = code;

    private static string Describe(int code) => code switch
    {
        -404 => " (auth key not found, or a refused key exchange)",
        -429 => " (flood: too many connections or requests)",
        -444 => " (invalid DC)",
        _ => "",
    };
}

/// <summary>The connection closed (by either side) or its byte stream became invalid.</summary>
public sealed class ConnectionClosedException(string message, Exception? inner = null) : MtProtoClientException(message, inner);

/// <summary>The key exchange failed.</summary>
public sealed class HandshakeFailedException(ClientHandshakeError error, string message)
    : MtProtoClientException($"Auth key creation failed ({error}): {message}")
{
    public ClientHandshakeError Error { get; } = error;
}

/// <summary>The server refused a message with bad_msg_notification (a code the session does not recover from itself).</summary>
public sealed class BadMsgNotificationException(long badMsgId, int code)
    : MtProtoClientException($"The server refused message {badMsgId:x16} with bad_msg_notification code {code}.")
{
    public long BadMsgId { get; } = badMsgId;
    public int Code { get; } = code;
}

/// <summary>An RPC answered with rpc_error.</summary>
public sealed class RpcErrorException(RpcError error) : MtProtoClientException($"rpc_error {error.ErrorCode}: {error.ErrorMessage}")
{
    public RpcError Error { get; } = error;
}
