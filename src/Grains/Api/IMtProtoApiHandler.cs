using MtActors.Protocol.Schema;

namespace MtActors.Grains.Api;

/// <summary>
/// An application's implementation of one or more API methods (anything outside the MTProto service schema).
/// Registered in DI by constructor id (<see cref="MtProtoApiServiceCollectionExtensions.AddMtProtoApiHandler(Microsoft.Extensions.DependencyInjection.IServiceCollection, uint, IMtProtoApiHandler)"/>);
/// the session grain calls it with the unwrapped query and sends the result inside rpc_result.
/// </summary>
/// <remarks>
/// Runs inside the session grain's activation, outside the grain's state lock: other frames of the same session
/// (pings, acks, msgs_state_req from another connection) are served while it runs. A query is executed at most
/// once: duplicates of its msg_id are answered from the session's memory. Throw <see cref="RpcErrorException"/>
/// (or return <see cref="ApiResult.Error"/>) for an rpc_error; any other exception becomes rpc_error 500
/// "INTERNAL". <paramref name="cancellationToken"/> fires on rpc_drop_answer for this query and on the
/// session's call timeout.
/// </remarks>
public interface IMtProtoApiHandler
{
    ValueTask<ApiResult> HandleAsync(ApiRequest request, CancellationToken cancellationToken);
}

/// <summary>One API query as the handler sees it.</summary>
/// <param name="ConstructorId">The constructor id of the innermost query (after every wrapper and gzip_packed).</param>
/// <param name="Query">The innermost boxed query, constructor id included.</param>
/// <param name="AuthKeyId">The auth key the session belongs to.</param>
/// <param name="SessionId">The session.</param>
/// <param name="MsgId">The client msg_id of the message carrying the query (req_msg_id of the answer).</param>
/// <param name="Layer">invokeWithLayer's layer from this query, else the last one the session saw (null: never).</param>
/// <param name="Connection">initConnection's fields from this query, else the last ones the session saw.</param>
/// <param name="WithoutUpdates">The query was wrapped in invokeWithoutUpdates.</param>
public sealed record ApiRequest(
    uint ConstructorId,
    ReadOnlyMemory<byte> Query,
    long AuthKeyId,
    long SessionId,
    long MsgId,
    int? Layer,
    InitConnection? Connection,
    bool WithoutUpdates);

/// <summary>What a handler answers: a serialized boxed result object, or an rpc_error.</summary>
public readonly record struct ApiResult
{
    private ApiResult(byte[]? result, int errorCode, string? errorMessage)
    {
        Result = result;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
    }

    /// <summary>The boxed result object (sent as rpc_result.result); null for an error.</summary>
    public byte[]? Result { get; }

    /// <summary>rpc_error.error_code when <see cref="Result"/> is null.</summary>
    public int ErrorCode { get; }

    /// <summary>rpc_error.error_message when <see cref="Result"/> is null (Telegram style: UPPER_SNAKE_CASE).</summary>
    public string? ErrorMessage { get; }

    public bool IsError => Result is null;

    /// <summary>A result: <paramref name="boxedResult"/> is one serialized boxed TL object (at least 4 bytes, length % 4 == 0).</summary>
    public static ApiResult Ok(byte[] boxedResult)
    {
        ArgumentNullException.ThrowIfNull(boxedResult);
        if (boxedResult.Length < 4 || (boxedResult.Length & 3) != 0)
        {
            throw new ArgumentException("A boxed TL object is at least 4 bytes and a multiple of 4.", nameof(boxedResult));
        }
        return new ApiResult(boxedResult, 0, null);
    }

    /// <summary>A result object written by <paramref name="value"/>.</summary>
    public static ApiResult Ok(TlObject value) => new(value.ToBytes(), 0, null);

    /// <summary>boolTrue / boolFalse.</summary>
    public static ApiResult Ok(bool value)
    {
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, value ? ConstructorIds.BoolTrue : ConstructorIds.BoolFalse);
        return new ApiResult(bytes, 0, null);
    }

    /// <summary>An rpc_error (e.g. 400 "METHOD_INVALID").</summary>
    public static ApiResult Error(int code, string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(message);
        return new ApiResult(null, code, message);
    }
}

/// <summary>Thrown by a handler to answer with an rpc_error.</summary>
public sealed class RpcErrorException(int code, string message) : Exception($"rpc_error {code} {message}")
{
    public int Code { get; } = code;
    public string ErrorMessage { get; } = message;
}

/// <summary>The rpc_errors the session layer itself answers with.</summary>
public static class RpcErrors
{
    /// <summary>No handler is registered for the query's constructor id (Telegram's answer to an unknown method).</summary>
    public static ApiResult MethodInvalid => ApiResult.Error(400, "METHOD_INVALID");

    /// <summary>The query could not be read (bad gzip, truncated wrapper, too deep).</summary>
    public static ApiResult InputFetchError => ApiResult.Error(400, "INPUT_FETCH_ERROR");

    /// <summary>The handler failed or ran past the session's call timeout.</summary>
    public static ApiResult Internal => ApiResult.Error(500, "INTERNAL");
}
