using System.Buffers.Binary;

namespace MtActors.Grains.Api;

/// <summary>The test conveniences of <see cref="MtProtoTestMethods"/> (help.getConfig stub, echo, sleep).</summary>
public sealed class BuiltInTestMethods : IMtProtoApiHandler
{
    public static IReadOnlyList<uint> ConstructorIds { get; } =
        [MtProtoTestMethods.HelpGetConfig, MtProtoTestMethods.Echo, MtProtoTestMethods.Sleep];

    public async ValueTask<ApiResult> HandleAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        switch (request.ConstructorId)
        {
            case MtProtoTestMethods.HelpGetConfig:
                return ApiResult.Ok(true);
            case MtProtoTestMethods.Echo:
                return (request.Query.Length & 3) == 0 ? ApiResult.Ok(request.Query.ToArray()) : RpcErrors.InputFetchError;
            case MtProtoTestMethods.Sleep:
                if (request.Query.Length != 8) return RpcErrors.InputFetchError;
                int ms = BinaryPrimitives.ReadInt32LittleEndian(request.Query.Span[4..]);
                if (ms is < 0 or > MtProtoTestMethods.MaxSleepMilliseconds) return ApiResult.Error(400, "MILLISECONDS_INVALID");
                await Task.Delay(ms, cancellationToken);
                return ApiResult.Ok(true);
            default:
                return RpcErrors.MethodInvalid;
        }
    }
}
