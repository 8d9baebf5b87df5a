using System.Buffers.Binary;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Client;

/// <summary>One message received in a session: a top-level message, or an item of a msg_container.</summary>
/// <param name="MsgId">Its msg_id (odd for a server message).</param>
/// <param name="SeqNo">Its seq_no (odd = content-related: the client acknowledges it).</param>
/// <param name="Salt">The salt of the frame's internal header.</param>
/// <param name="SessionId">The frame's session_id.</param>
/// <param name="Body">The message body (one boxed TL object; a gzip_packed body is NOT inflated here).</param>
/// <param name="ContainerMsgId">The enclosing container's msg_id for a container item, else null.</param>
public sealed record ReceivedMessage(long MsgId, int SeqNo, long Salt, long SessionId, ReadOnlyMemory<byte> Body, long? ContainerMsgId)
{
    /// <summary>The body's constructor id (0 if shorter than 4 bytes).</summary>
    public uint ConstructorId => Body.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Body.Span) : 0;

    public bool IsContentRelated => (SeqNo & 1) == 1;

    /// <summary>Parses the body as a service-schema object (null when it is not one or does not parse).</summary>
    public TlObject? TryParse() => ServiceSchema.TryRead(Body.Span, out var value, out _) ? value : null;

    public override string ToString() => $"msg {MsgId:x16} seq {SeqNo} #{ConstructorId:x8} ({Body.Length} bytes){(ContainerMsgId is long c ? $" in {c:x16}" : "")}";
}

/// <summary>One message to put in a frame or container: header values and body.</summary>
public readonly record struct OutgoingMessage(long MsgId, int SeqNo, ReadOnlyMemory<byte> Body);

/// <summary>The answer of an RPC query: its result object, or an rpc_error.</summary>
/// <param name="ReqMsgId">The msg_id the result answered.</param>
/// <param name="Result">The result object (inflated when it came gzip_packed); empty for an error.</param>
/// <param name="Error">The rpc_error, or null.</param>
/// <param name="Message">The message that carried the answer.</param>
public sealed record RpcResponse(long ReqMsgId, ReadOnlyMemory<byte> Result, RpcError? Error, ReceivedMessage Message)
{
    public bool IsError => Error is not null;

    /// <summary>The result's constructor id (0 for an error or an empty result).</summary>
    public uint ResultConstructorId => Result.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Result.Span) : 0;

    /// <summary>The result, or an <see cref="RpcErrorException"/> for an rpc_error.</summary>
    public ReadOnlyMemory<byte> GetResultOrThrow() => Error is { } e ? throw new RpcErrorException(e) : Result;
}

/// <summary>Pure helpers to build and take apart session messages (no state, no I/O).</summary>
public static class ClientMessages
{
    /// <summary>Largest inflated gzip_packed body accepted from a server.</summary>
    public const int MaxInflatedSize = 16 << 20;

    /// <summary>msg_container#73f1f8dc with the given items (in order); throws for more than 1024 items.</summary>
    public static byte[] BuildContainer(IReadOnlyList<OutgoingMessage> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count is 0 or > MsgContainer.MaxItems) throw new ArgumentOutOfRangeException(nameof(items), items.Count, "A container holds 1..1024 messages.");
        int size = 8;
        foreach (var m in items) size += 16 + m.Body.Length;
        using var w = new TlWriter(size);
        MsgContainer.WriteHeader(w, items.Count);
        foreach (var m in items) MsgContainer.WriteItem(w, m.MsgId, m.SeqNo, m.Body.Span);
        return w.ToArray();
    }

    /// <summary>
    /// Splits a msg_container body into its items. Returns false (with the reader error) when the body is not a
    /// well-formed container; a nested container is reported as an item like any other.
    /// </summary>
    public static bool TryReadContainer(ReadOnlyMemory<byte> body, out List<OutgoingMessage> items, out TlError error)
    {
        items = [];
        var r = new TlReader(body.Span);
        if (MsgContainer.TryReadHeader(ref r, out int count))
        {
            for (int i = 0; i < count; i++)
            {
                if (!MsgContainer.TryReadItem(ref r, out var item)) break;
                int offset = r.Position - item.Body.Length;
                items.Add(new OutgoingMessage(item.MsgId, item.SeqNo, body.Slice(offset, item.Body.Length)));
            }
            r.ExpectEnd();
        }
        error = r.Error;
        if (!r.Ok) items = [];
        return r.Ok;
    }

    /// <summary>Inflates a gzip_packed body; other bodies come back as they are.</summary>
    public static bool TryUnpack(ReadOnlyMemory<byte> body, out ReadOnlyMemory<byte> unpacked, out TlError error)
    {
        error = TlError.None;
        unpacked = body;
        if (body.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(body.Span) != ConstructorIds.GzipPacked) return true;
        var r = new TlReader(body.Span);
        if (GzipPacked.TryReadInflated(ref r, MaxInflatedSize, out var inflated))
        {
            r.ExpectEnd();
            if (r.Ok)
            {
                unpacked = inflated;
                return true;
            }
        }
        error = r.Error;
        unpacked = default;
        return false;
    }

    /// <summary>
    /// Reads rpc_result#f35c6d01 req_msg_id:long result:Object: the result inflated when gzip_packed, and split into an
    /// rpc_error when it is one.
    /// </summary>
    public static bool TryReadRpcResult(ReadOnlyMemory<byte> body, out long reqMsgId, out ReadOnlyMemory<byte> result, out RpcError? error)
    {
        reqMsgId = 0;
        result = default;
        error = null;
        var span = body.Span;
        if (span.Length < 16 || BinaryPrimitives.ReadUInt32LittleEndian(span) != ConstructorIds.RpcResult) return false;
        reqMsgId = BinaryPrimitives.ReadInt64LittleEndian(span[4..]);
        if (!TryUnpack(body[12..], out result, out _)) return false;
        if (result.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(result.Span) == ConstructorIds.RpcError)
        {
            if (!ServiceSchema.TryRead(result.Span, out var obj, out _) || obj is not RpcError e) return false;
            error = e;
            result = default;
        }
        return true;
    }

    /// <summary>A TL query body for mtactors.echo#19e170e9 payload:bytes (the server's test method answering the query itself).</summary>
    public static byte[] EchoQuery(ReadOnlySpan<byte> payload)
    {
        using var w = new TlWriter(payload.Length + 8);
        w.WriteUInt32(EchoConstructorId);
        w.WriteBytes(payload);
        return w.ToArray();
    }

    /// <summary>mtactors.echo#19e170e9 (the session grain's built-in test method).</summary>
    public const uint EchoConstructorId = 0x19e170e9;
}
