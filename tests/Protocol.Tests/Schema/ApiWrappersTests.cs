using System.IO.Compression;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Schema;

public class ApiWrappersTests
{
    // help.getConfig#c4f9186b: a typical innermost API query.
    private static readonly byte[] GetConfig = [0x6b, 0x18, 0xf9, 0xc4];

    private static readonly InitConnection Init = new(
        2040, "PC 64bit", "Linux 6.1", "5.0.1 x64", "en-US", "tdesktop", "en",
        new InputClientProxy("proxy.example", 443), JsonValueTests.Sample);

    private static UnwrappedQuery Unwrap(byte[] bytes)
    {
        Assert.True(ApiWrappers.TryUnwrap(bytes, out var q, out var error), error.ToString());
        return q;
    }

    [Fact]
    public void A_bare_query_is_returned_as_is()
    {
        var q = Unwrap(GetConfig);
        Assert.Equal(0xc4f9186bu, q.ConstructorId);
        Assert.Equal(GetConfig, q.Query.ToArray());
        Assert.Null(q.Layer);
        Assert.Null(q.InitConnection);
        Assert.Empty(q.InvokeAfterMsgIds);
        Assert.Equal(0, q.Depth);
        Assert.False(q.WasGzipped);
    }

    [Fact]
    public void The_typical_first_call_is_unwrapped()
    {
        using var w = new TlWriter();
        ApiWrappers.WriteInvokeWithLayer(w, 214);
        Init.WriteHeader(w);
        w.WriteRaw(GetConfig);
        var bytes = w.ToArray();
        var q = Unwrap(bytes);
        Assert.Equal(214, q.Layer);
        Assert.Equal(Init, q.InitConnection);
        Assert.Equal(GetConfig, q.Query.ToArray());
        Assert.Equal(2, q.Depth);
        Assert.Equal(JsonValueTests.Sample.ToJson(), q.InitConnection!.ParamsJson);

        // The query is a slice of the input: no copy.
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(q.Query, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(bytes.Length - 4, segment.Offset);
    }

    [Fact]
    public void InitConnection_without_optional_fields()
    {
        var init = new InitConnection(1, "d", "s", "a", "en", "", "en");
        using var w = new TlWriter();
        init.WriteHeader(w);
        Assert.Equal(0u, BitConverter.ToUInt32(w.WrittenSpan[4..8]));
        w.WriteRaw(GetConfig);
        var q = Unwrap(w.ToArray());
        Assert.Equal(init, q.InitConnection);
        Assert.Null(q.InitConnection!.ParamsJson);
    }

    [Fact]
    public void Every_wrapper_and_gzip_anywhere_in_the_chain()
    {
        using var inner = new TlWriter();
        ApiWrappers.WriteInvokeAfterMsgs(inner, [0x100, 0x104]);
        ApiWrappers.WriteInvokeWithoutUpdates(inner);
        ApiWrappers.WriteInvokeWithMessagesRange(inner, 10, 20);
        ApiWrappers.WriteInvokeWithTakeout(inner, 0x7777);
        GzipPacked.Write(inner, GetConfig);

        using var w = new TlWriter();
        ApiWrappers.WriteInvokeWithLayer(w, 201);
        ApiWrappers.WriteInvokeAfterMsg(w, 0x0F0);
        GzipPacked.Write(w, inner.WrittenSpan);
        var q = Unwrap(w.ToArray());
        Assert.Equal(201, q.Layer);
        Assert.Equal([0x0F0L, 0x100L, 0x104L], q.InvokeAfterMsgIds.ToArray());
        Assert.True(q.WithoutUpdates);
        Assert.Equal(0x7777, q.TakeoutId);
        Assert.True(q.WasGzipped);
        Assert.Equal(8, q.Depth);
        Assert.Equal(GetConfig, q.Query.ToArray());
    }

    [Fact]
    public void Telethon_style_gzip_of_the_whole_chain()
    {
        using var chain = new TlWriter();
        ApiWrappers.WriteInvokeWithLayer(chain, 198);
        Init.WriteHeader(chain);
        new Ping(5).WriteTo(chain);
        using var w = new TlWriter();
        GzipPacked.Write(w, chain.WrittenSpan);
        var q = Unwrap(w.ToArray());
        Assert.Equal(198, q.Layer);
        Assert.Equal(Init, q.InitConnection);
        Assert.Equal(ConstructorIds.Ping, q.ConstructorId);
        Assert.Equal(SeqNoParity.Either, ContentRelation.ExpectedFromClient(q.ConstructorId));
    }

    [Fact]
    public void Outermost_layer_wins()
    {
        using var w = new TlWriter();
        ApiWrappers.WriteInvokeWithLayer(w, 1);
        ApiWrappers.WriteInvokeWithLayer(w, 2);
        w.WriteRaw(GetConfig);
        Assert.Equal(1, Unwrap(w.ToArray()).Layer);
    }

    [Fact]
    public void Depth_is_limited()
    {
        using var w = new TlWriter();
        for (int i = 0; i < ApiWrappers.DefaultMaxDepth; i++) ApiWrappers.WriteInvokeWithoutUpdates(w);
        w.WriteRaw(GetConfig);
        Assert.Equal(ApiWrappers.DefaultMaxDepth, Unwrap(w.ToArray()).Depth);
        w.Reset();
        for (int i = 0; i <= ApiWrappers.DefaultMaxDepth; i++) ApiWrappers.WriteInvokeWithoutUpdates(w);
        w.WriteRaw(GetConfig);
        Assert.False(ApiWrappers.TryUnwrap(w.ToArray(), out _, out var error));
        Assert.Equal(TlError.TooDeep, error);
    }

    [Fact]
    public void Nested_gzip_is_limited_too()
    {
        byte[] current = GetConfig;
        for (int i = 0; i < 20; i++)
        {
            using var w = new TlWriter();
            GzipPacked.Write(w, current);
            current = w.ToArray();
        }
        Assert.False(ApiWrappers.TryUnwrap(current, out _, out var error));
        Assert.Equal(TlError.TooDeep, error);
    }

    [Fact]
    public void Gzip_bomb_in_the_chain_is_a_typed_error()
    {
        using var w = new TlWriter();
        ApiWrappers.WriteInvokeWithLayer(w, 214);
        GzipPacked.Write(w, new byte[8 << 20], CompressionLevel.SmallestSize);
        Assert.False(ApiWrappers.TryUnwrap(w.ToArray(), out _, out var error, maxInflatedSize: 1 << 20));
        Assert.Equal(TlError.GzipTooLarge, error);
    }

    [Fact]
    public void Truncated_chains_fail_at_every_offset()
    {
        using var w = new TlWriter();
        ApiWrappers.WriteInvokeWithLayer(w, 214);
        ApiWrappers.WriteInvokeAfterMsgs(w, [1, 2]);
        ApiWrappers.WriteInvokeWithMessagesRange(w, 1, 2);
        Init.WriteHeader(w);
        var bytes = w.ToArray(); // no query at the end
        for (int cut = 0; cut <= bytes.Length; cut++)
        {
            Assert.False(ApiWrappers.TryUnwrap(bytes.AsMemory(0, cut), out _, out var error), $"cut {cut}");
            Assert.True(error is TlError.Truncated or TlError.BadLength, $"cut {cut}: {error}");
        }
    }

    [Fact]
    public void Bad_nested_types_are_typed_errors()
    {
        using var w = new TlWriter();
        w.WriteUInt32(ConstructorIds.InvokeWithMessagesRange);
        w.WriteUInt32(0x12345678); // not messageRange
        w.WriteInt64(0);
        w.WriteRaw(GetConfig);
        Assert.False(ApiWrappers.TryUnwrap(w.ToArray(), out _, out var error));
        Assert.Equal(TlError.UnexpectedConstructor, error);

        w.Reset();
        var init = Init with { Proxy = null };
        init.WriteHeader(w);
        var bytes = w.ToArray();
        bytes[4] |= 1; // claims a proxy; the next field is the JSON params
        Assert.False(ApiWrappers.TryUnwrap(bytes.Concat(GetConfig).ToArray(), out _, out error));
        Assert.Equal(TlError.UnexpectedConstructor, error);
    }

    [Fact]
    public void Deep_json_params_are_rejected()
    {
        JsonValue deep = JsonNull.Instance;
        for (int i = 0; i < 40; i++) deep = new JsonArray([deep]);
        using var w = new TlWriter();
        (Init with { Params = deep }).WriteHeader(w);
        w.WriteRaw(GetConfig);
        Assert.False(ApiWrappers.TryUnwrap(w.ToArray(), out _, out var error));
        Assert.Equal(TlError.TooDeep, error);
    }

    [Fact]
    public void Random_garbage_after_a_wrapper_never_throws()
    {
        var random = new Random(11);
        uint[] wrappers = [ConstructorIds.InvokeWithLayer, ConstructorIds.InitConnection, ConstructorIds.InvokeAfterMsgs,
            ConstructorIds.GzipPacked, ConstructorIds.InvokeWithMessagesRange, ConstructorIds.InvokeWithTakeout];
        for (int i = 0; i < 20000; i++)
        {
            var bytes = new byte[random.Next(4, 100)];
            random.NextBytes(bytes);
            BitConverter.TryWriteBytes(bytes, wrappers[random.Next(wrappers.Length)]);
            bool ok = ApiWrappers.TryUnwrap(bytes, out var q, out var error);
            Assert.Equal(ok, error == TlError.None);
            if (ok) Assert.True(q.Query.Length >= 4);
        }
    }
}
