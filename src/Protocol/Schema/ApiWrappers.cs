using System.Buffers.Binary;
using System.Collections.Immutable;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Schema;

/// <summary>inputClientProxy#75588b3f address:string port:int (the MTProxy a client connects through).</summary>
public sealed record InputClientProxy(string Address, int Port);

/// <summary>
/// The fields of initConnection#c1cd5ea9 (flags:# api_id:int device_model system_version app_version
/// system_lang_code lang_pack lang_code:string proxy:flags.0?InputClientProxy params:flags.1?JSONValue query:!X).
/// </summary>
public sealed record InitConnection(
    int ApiId,
    string DeviceModel,
    string SystemVersion,
    string AppVersion,
    string SystemLangCode,
    string LangPack,
    string LangCode,
    InputClientProxy? Proxy = null,
    JsonValue? Params = null)
{
    /// <summary><see cref="Params"/> as JSON text, or null when the client sent none.</summary>
    public string? ParamsJson => Params?.ToJson();

    /// <summary>Writes initConnection up to its query; the caller writes the query next.</summary>
    public void WriteHeader(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorIds.InitConnection);
        writer.WriteUInt32((Proxy is null ? 0u : 1u) | (Params is null ? 0u : 2u));
        writer.WriteInt32(ApiId);
        writer.WriteString(DeviceModel);
        writer.WriteString(SystemVersion);
        writer.WriteString(AppVersion);
        writer.WriteString(SystemLangCode);
        writer.WriteString(LangPack);
        writer.WriteString(LangCode);
        if (Proxy is not null)
        {
            writer.WriteUInt32(ConstructorIds.InputClientProxy);
            writer.WriteString(Proxy.Address);
            writer.WriteInt32(Proxy.Port);
        }
        Params?.WriteTo(writer);
    }

    /// <summary>Reads the fields after the constructor id, up to the query.</summary>
    internal static InitConnection? ReadBody(ref TlReader r, int maxJsonDepth)
    {
        uint flags = r.ReadUInt32();
        int apiId = r.ReadInt32();
        string deviceModel = r.ReadString();
        string systemVersion = r.ReadString();
        string appVersion = r.ReadString();
        string systemLangCode = r.ReadString();
        string langPack = r.ReadString();
        string langCode = r.ReadString();
        InputClientProxy? proxy = null;
        if ((flags & 1) != 0 && r.ExpectConstructor(ConstructorIds.InputClientProxy))
        {
            proxy = new InputClientProxy(r.ReadString(), r.ReadInt32());
        }
        JsonValue? parameters = null;
        if ((flags & 2) != 0 && JsonValue.TryRead(ref r, out var json, maxJsonDepth)) parameters = json;
        return r.Ok
            ? new InitConnection(apiId, deviceModel, systemVersion, appVersion, systemLangCode, langPack, langCode, proxy, parameters)
            : null;
    }
}

/// <summary>The result of <see cref="ApiWrappers.TryUnwrap"/>: the innermost query and what its wrappers said.</summary>
public readonly struct UnwrappedQuery
{
    /// <summary>The innermost boxed query: a slice of the input, or of an owned buffer when it was gzipped.</summary>
    public ReadOnlyMemory<byte> Query { get; init; }

    /// <summary>The constructor id the query starts with.</summary>
    public uint ConstructorId => BinaryPrimitives.ReadUInt32LittleEndian(Query.Span);

    /// <summary>invokeWithLayer's layer (the outermost one if several), or null.</summary>
    public int? Layer { get; init; }

    /// <summary>initConnection's fields (the outermost one if several), or null.</summary>
    public InitConnection? InitConnection { get; init; }

    /// <summary>The msg_ids of every invokeAfterMsg / invokeAfterMsgs in the chain, outermost first.</summary>
    public ImmutableArray<long> InvokeAfterMsgIds { get; init; }

    /// <summary>Whether invokeWithoutUpdates was in the chain.</summary>
    public bool WithoutUpdates { get; init; }

    /// <summary>invokeWithTakeout's takeout_id, or null.</summary>
    public long? TakeoutId { get; init; }

    /// <summary>Whether a gzip_packed was peeled anywhere in the chain.</summary>
    public bool WasGzipped { get; init; }

    /// <summary>How many wrappers (gzip_packed included) were peeled.</summary>
    public int Depth { get; init; }
}

/// <summary>
/// The API-level wrappers (invokeWithLayer, initConnection, invokeWithoutUpdates, invokeAfterMsg(s),
/// invokeWithMessagesRange, invokeWithTakeout) and gzip_packed, which a client may put around any query in
/// any order. Header writers write a wrapper up to its final <c>query:!X</c>; the caller writes the query next.
/// </summary>
public static class ApiWrappers
{
    /// <summary>Default limit on the number of wrappers peeled (gzip_packed included).</summary>
    public const int DefaultMaxDepth = 16;

    /// <summary>Whether <paramref name="constructorId"/> is one of the wrappers <see cref="TryUnwrap"/> peels.</summary>
    public static bool IsWrapper(uint constructorId) => constructorId switch
    {
        ConstructorIds.GzipPacked or ConstructorIds.InvokeWithLayer or ConstructorIds.InitConnection
            or ConstructorIds.InvokeWithoutUpdates or ConstructorIds.InvokeAfterMsg or ConstructorIds.InvokeAfterMsgs
            or ConstructorIds.InvokeWithMessagesRange or ConstructorIds.InvokeWithTakeout => true,
        _ => false,
    };

    public static void WriteInvokeWithLayer(TlWriter writer, int layer)
    {
        writer.WriteUInt32(ConstructorIds.InvokeWithLayer);
        writer.WriteInt32(layer);
    }

    public static void WriteInvokeWithoutUpdates(TlWriter writer) => writer.WriteUInt32(ConstructorIds.InvokeWithoutUpdates);

    public static void WriteInvokeAfterMsg(TlWriter writer, long msgId)
    {
        writer.WriteUInt32(ConstructorIds.InvokeAfterMsg);
        writer.WriteInt64(msgId);
    }

    public static void WriteInvokeAfterMsgs(TlWriter writer, ReadOnlySpan<long> msgIds)
    {
        writer.WriteUInt32(ConstructorIds.InvokeAfterMsgs);
        writer.WriteLongVector(msgIds);
    }

    public static void WriteInvokeWithMessagesRange(TlWriter writer, int minId, int maxId)
    {
        writer.WriteUInt32(ConstructorIds.InvokeWithMessagesRange);
        writer.WriteUInt32(ConstructorIds.MessageRange);
        writer.WriteInt32(minId);
        writer.WriteInt32(maxId);
    }

    public static void WriteInvokeWithTakeout(TlWriter writer, long takeoutId)
    {
        writer.WriteUInt32(ConstructorIds.InvokeWithTakeout);
        writer.WriteInt64(takeoutId);
    }

    /// <summary>
    /// Peels every wrapper around a client query, inflating gzip_packed wherever it occurs in the chain.
    /// Stops at the first constructor that is not a wrapper and returns it as <see cref="UnwrappedQuery.Query"/>.
    /// Errors: <see cref="TlError.TooDeep"/> past <paramref name="maxDepth"/> wrappers (or JSON nesting past
    /// <see cref="JsonValue.DefaultMaxDepth"/>), <see cref="TlError.GzipTooLarge"/> / <see cref="TlError.BadGzip"/>,
    /// <see cref="TlError.UnexpectedConstructor"/> for a bad nested type, <see cref="TlError.Truncated"/> and the
    /// other reader errors for malformed fields. Never throws for bad input.
    /// </summary>
    public static bool TryUnwrap(
        ReadOnlyMemory<byte> body,
        out UnwrappedQuery query,
        out TlError error,
        int maxInflatedSize = GzipPacked.DefaultMaxInflatedSize,
        int maxDepth = DefaultMaxDepth)
    {
        query = default;
        var current = body;
        int depth = 0;
        int? layer = null;
        InitConnection? init = null;
        List<long>? after = null;
        bool withoutUpdates = false;
        long? takeoutId = null;
        bool gzipped = false;
        while (true)
        {
            if (current.Length < 4)
            {
                error = TlError.Truncated;
                return false;
            }
            uint id = BinaryPrimitives.ReadUInt32LittleEndian(current.Span);
            if (!IsWrapper(id)) break;
            if (++depth > maxDepth)
            {
                error = TlError.TooDeep;
                return false;
            }
            var r = new TlReader(current.Span);
            r.ReadUInt32();
            switch (id)
            {
                case ConstructorIds.GzipPacked:
                {
                    var packed = r.ReadBytes();
                    if (!r.Ok) break;
                    if (!GzipPacked.TryInflate(packed, maxInflatedSize, out var inflated, out error)) return false;
                    gzipped = true;
                    current = inflated;
                    continue; // the gzip'd object is the whole of the inflated buffer
                }
                case ConstructorIds.InvokeWithLayer:
                    int l = r.ReadInt32();
                    layer ??= l;
                    break;
                case ConstructorIds.InitConnection:
                    var ic = InitConnection.ReadBody(ref r, JsonValue.DefaultMaxDepth);
                    init ??= ic;
                    break;
                case ConstructorIds.InvokeWithoutUpdates:
                    withoutUpdates = true;
                    break;
                case ConstructorIds.InvokeAfterMsg:
                    long msgId = r.ReadInt64();
                    if (r.Ok) (after ??= []).Add(msgId);
                    break;
                case ConstructorIds.InvokeAfterMsgs:
                    int count = r.ReadVectorHeader(8);
                    after ??= [];
                    for (int i = 0; i < count && r.Ok; i++) after.Add(r.ReadInt64());
                    break;
                case ConstructorIds.InvokeWithMessagesRange:
                    if (r.ExpectConstructor(ConstructorIds.MessageRange)) r.Skip(8);
                    break;
                case ConstructorIds.InvokeWithTakeout:
                    long takeout = r.ReadInt64();
                    takeoutId ??= takeout;
                    break;
            }
            if (!r.Ok)
            {
                error = r.Error;
                return false;
            }
            current = current.Slice(r.Position);
        }
        query = new UnwrappedQuery
        {
            Query = current,
            Layer = layer,
            InitConnection = init,
            InvokeAfterMsgIds = after is null ? [] : [.. after],
            WithoutUpdates = withoutUpdates,
            TakeoutId = takeoutId,
            WasGzipped = gzipped,
            Depth = depth,
        };
        error = TlError.None;
        return true;
    }
}
