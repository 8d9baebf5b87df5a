using System.Buffers.Binary;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;
using static MtActors.Grains.Tests.Sessions.SessionClient;

namespace MtActors.Grains.Tests.Sessions;

/// <summary>The pluggable API layer: registration by constructor id, errors, initConnection kept on the session.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ApiLayerTests(PostgresFixture pg)
{
    private Task<SharedCluster> ClusterAsync() => TestApi.ClusterAsync(pg);

    private static async Task<SessionClient> StartedAsync(SharedCluster c)
    {
        SessionClient client = await SessionClient.CreateAsync(c);
        await client.SendAsync(new Ping(0));
        return client;
    }

    [Fact]
    public async Task Unknown_method_gets_rpc_error_400_METHOD_INVALID_in_rpc_result()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        long id = client.NextMsgId();
        Reply reply = await client.SendAsync(Query(0x12345678), true, id);
        Assert.Equal(new RpcError(400, "METHOD_INVALID"), reply.ErrorOf(id));
        Assert.Equal(1, Assert.Single(reply.Messages).SeqNo & 1); // rpc_result is content-related
    }

    [Fact]
    public async Task Handlers_registered_by_delegate_instance_and_type_answer_their_constructor_ids()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        long typed = client.NextMsgId();
        byte[] result = (await client.SendAsync(Query(TestApi.Typed), true, typed)).ResultOf(typed);
        var r = new TlReader(result);
        Assert.Equal(TestApi.Typed, r.ReadUInt32());
        Assert.Equal("hello from DI", r.ReadString()); // constructed by DI with its dependency

        long instance = client.NextMsgId();
        Assert.Equal(BitConverter.GetBytes(ConstructorIds.BoolFalse), (await client.SendAsync(Query(TestApi.Delegate), true, instance)).ResultOf(instance));

        string key = TestApi.NewKey();
        long counted = client.NextMsgId();
        Assert.Equal(BitConverter.GetBytes(ConstructorIds.BoolTrue), (await client.SendAsync(TestApi.Call(TestApi.Count, key), true, counted)).ResultOf(counted));
        Assert.Equal(1, TestApi.Executions[key]);
    }

    [Fact]
    public async Task Handler_errors_become_rpc_errors()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        long flood = client.NextMsgId();
        Assert.Equal(new RpcError(420, "FLOOD_WAIT_3"), (await client.SendAsync(Query(TestApi.Flood), true, flood)).ErrorOf(flood));
        long crash = client.NextMsgId();
        Assert.Equal(new RpcError(500, "INTERNAL"), (await client.SendAsync(Query(TestApi.Crash), true, crash)).ErrorOf(crash));
        // The session carries on.
        Assert.Single((await client.SendAsync(new Ping(1))).All<Pong>());
    }

    [Fact]
    public async Task Handlers_see_the_query_its_session_and_the_layer_and_init_connection_kept_on_the_session_across_deactivation()
    {
        SharedCluster c = await ClusterAsync();
        SessionClient client = await StartedAsync(c);
        var init = new InitConnection(77, "Pixel", "Android 15", "1.2.3", "en", "android", "en",
            new InputClientProxy("proxy.example", 443), new JsonObject([new JsonObjectValue("tz", new JsonString("UTC"))]));
        string key1 = TestApi.NewKey();
        long first = client.NextMsgId();
        byte[] call1 = TestApi.Call(TestApi.Record, key1);
        await client.SendAsync(Wrap(w => ApiWrappers.WriteInvokeWithLayer(w, 227), Wrap(init.WriteHeader, Wrap(ApiWrappers.WriteInvokeWithoutUpdates, call1))), true, first);
        Api.ApiRequest seen = TestApi.Requests[key1];
        Assert.Equal(TestApi.Record, seen.ConstructorId);
        Assert.Equal(call1, seen.Query.ToArray());
        Assert.Equal((client.AuthKeyId, client.SessionId, first), (seen.AuthKeyId, seen.SessionId, seen.MsgId));
        Assert.Equal(227, seen.Layer);
        Assert.Equal(init, seen.Connection);
        Assert.True(seen.WithoutUpdates);

        // A later plain query sees what the session kept, also after the grain moved (clean deactivation).
        await c.Cluster.DeactivateAsync(client.Grain).WaitAsync(Bound);
        string key2 = TestApi.NewKey();
        await client.SendAsync(TestApi.Call(TestApi.Record, key2), true);
        Api.ApiRequest later = TestApi.Requests[key2];
        Assert.Equal(227, later.Layer);
        Assert.NotNull(later.Connection);
        Assert.Equal((77, "Pixel", "Android 15", "1.2.3", "en", "android", "en"),
            (later.Connection.ApiId, later.Connection.DeviceModel, later.Connection.SystemVersion, later.Connection.AppVersion,
                later.Connection.SystemLangCode, later.Connection.LangPack, later.Connection.LangCode));
        Assert.Equal(new InputClientProxy("proxy.example", 443), later.Connection.Proxy);
        Assert.False(later.WithoutUpdates);
    }

    [Fact]
    public async Task Built_in_test_methods_help_get_config_echo_and_sleep()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        long config = client.NextMsgId();
        Assert.Equal(BitConverter.GetBytes(ConstructorIds.BoolTrue),
            (await client.SendAsync(BitConverter.GetBytes(MtProtoTestMethods.HelpGetConfig), true, config)).ResultOf(config));
        long echo = client.NextMsgId();
        byte[] payload = Echo(100);
        payload[10] = 42;
        Assert.Equal(payload, (await client.SendAsync(payload, true, echo)).ResultOf(echo));
        long sleep = client.NextMsgId();
        Assert.Equal(BitConverter.GetBytes(ConstructorIds.BoolTrue), (await client.SendAsync(Sleep(20), true, sleep)).ResultOf(sleep));
        long tooLong = client.NextMsgId();
        byte[] body = Sleep(0);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(4), MtProtoTestMethods.MaxSleepMilliseconds + 1);
        Assert.Equal(400, (await client.SendAsync(body, true, tooLong)).ErrorOf(tooLong).ErrorCode);
    }

    [Fact]
    public async Task An_unreadable_query_gets_rpc_error_400_and_the_session_carries_on()
    {
        SessionClient client = await StartedAsync(await ClusterAsync());
        long id = client.NextMsgId();
        byte[] badGzip = Query(ConstructorIds.GzipPacked, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
        Assert.Equal(new RpcError(400, "INPUT_FETCH_ERROR"), (await client.SendAsync(badGzip, true, id)).ErrorOf(id));
        Assert.Single((await client.SendAsync(new Ping(1))).All<Pong>());
    }
}
