using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MtActors.Grains.Api;
using MtActors.Grains.Tests.Infrastructure;
using MtActors.Protocol.Tl;

namespace MtActors.Grains.Tests.Sessions;

/// <summary>
/// API handlers the session tests register (through the public DI extensions) on a cluster of their own.
/// Each query carries a key (a string payload) so parallel tests never share counters.
/// </summary>
internal static class TestApi
{
    public const uint Count = 0x7e570001;      // test.count key:string = Bool: counts executions per key
    public const uint Record = 0x7e570002;     // test.record key:string = Bool: keeps the ApiRequest per key
    public const uint Flood = 0x7e570003;      // throws RpcErrorException(420, FLOOD_WAIT_3)
    public const uint Crash = 0x7e570004;      // throws InvalidOperationException
    public const uint Gate = 0x7e570005;       // test.gate key:string = Bool: waits until Release(key)
    public const uint Typed = 0x7e570006;      // served by a DI-constructed handler class
    public const uint Delegate = 0x7e570007;   // served by a delegate

    public static readonly ConcurrentDictionary<string, int> Executions = new();
    public static readonly ConcurrentDictionary<string, ApiRequest> Requests = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();
    public static readonly ConcurrentDictionary<string, bool> GateCancelled = new();

    public static string NewKey() => Guid.NewGuid().ToString("N");

    public static byte[] Call(uint id, string key) => SessionClient.Query(id, Encoding.UTF8.GetBytes(key));

    public static void Release(string key) => GateFor(key).TrySetResult();

    /// <summary>Waits until a gate query with this key has started (bounded).</summary>
    public static async Task WaitStartedAsync(string key)
    {
        using var timeout = new CancellationTokenSource(SessionClient.Bound);
        while (!Executions.ContainsKey(key)) await Task.Delay(10, timeout.Token);
    }

    private static TaskCompletionSource GateFor(string key) =>
        Gates.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private static string KeyOf(ApiRequest request)
    {
        var r = new TlReader(request.Query.Span);
        r.ReadUInt32();
        return r.ReadString();
    }

    public static Task<SharedCluster> ClusterAsync(PostgresFixture pg) => pg.GetClusterAsync("session_api", silo =>
    {
        silo.Services.AddMtProtoApiHandler(Count, (request, _) =>
        {
            Executions.AddOrUpdate(KeyOf(request), 1, (_, n) => n + 1);
            return ValueTask.FromResult(ApiResult.Ok(true));
        });
        silo.Services.AddMtProtoApiHandler(Record, (request, _) =>
        {
            Requests[KeyOf(request)] = request;
            return ValueTask.FromResult(ApiResult.Ok(true));
        });
        silo.Services.AddMtProtoApiHandler(Flood, (_, _) => throw new RpcErrorException(420, "FLOOD_WAIT_3"));
        silo.Services.AddMtProtoApiHandler(Crash, (_, _) => throw new InvalidOperationException("handler bug"));
        silo.Services.AddMtProtoApiHandler(Gate, async (request, cancellationToken) =>
        {
            string key = KeyOf(request);
            Executions.AddOrUpdate(key, 1, (_, n) => n + 1);
            try
            {
                await GateFor(key).Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                GateCancelled[key] = true;
                throw;
            }
            return ApiResult.Ok(true);
        });
        silo.Services.AddMtProtoApiHandler<TypedHandler>(Typed);
        silo.Services.AddSingleton(new TypedHandlerGreeting("hello from DI"));
        silo.Services.AddMtProtoApiHandler(Delegate, new DelegateStyleHandler());
    });

    public sealed record TypedHandlerGreeting(string Text);

    /// <summary>Constructed by DI (constructor injection) and registered by type.</summary>
    public sealed class TypedHandler(TypedHandlerGreeting greeting) : IMtProtoApiHandler
    {
        public ValueTask<ApiResult> HandleAsync(ApiRequest request, CancellationToken cancellationToken)
        {
            using var writer = new TlWriter();
            writer.WriteUInt32(Typed);
            writer.WriteString(greeting.Text);
            return ValueTask.FromResult(ApiResult.Ok(writer.ToArray()));
        }
    }

    /// <summary>An instance registered as is; answers boolFalse.</summary>
    public sealed class DelegateStyleHandler : IMtProtoApiHandler
    {
        public ValueTask<ApiResult> HandleAsync(ApiRequest request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(ApiResult.Ok(false));
    }
}
