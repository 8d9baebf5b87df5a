using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MtActors.Grains;

/// <summary>Names the grains' state lives under, and the services the grains need.</summary>
public static class GrainServices
{
    /// <summary>Storage provider of <c>SessionGrain</c> (state name <see cref="SessionStateName"/>).</summary>
    public const string SessionStorage = "sessions";

    /// <summary>Storage provider of <c>AuthKeyGrain</c> (state name <see cref="AuthKeyStateName"/>).</summary>
    public const string AuthKeyStorage = "authkeys";

    /// <summary>The graintypestring of a session's storage row.</summary>
    public const string SessionStateName = "session";

    /// <summary>The graintypestring of an auth key's storage row.</summary>
    public const string AuthKeyStateName = "authkey";

    /// <summary>
    /// Key of the <see cref="TimeProvider"/> the grains read the clock from (salts, msg_id windows).
    /// A keyed service so a test can fake the grains' clock without touching the clock Orleans itself uses.
    /// </summary>
    public const string ClockKey = "MtActors.GrainClock";

    /// <summary>Registers the grains' clock (system time unless already registered) and validated options.</summary>
    public static IServiceCollection AddMtActorsGrainServices(this IServiceCollection services)
    {
        services.TryAddKeyedSingleton(ClockKey, TimeProvider.System);
        services.TryAddSingleton<Api.MtProtoApiRouter>();
        services.AddOptions<SessionOptions>()
            .BindConfiguration(SessionOptions.Section)
            .Validate(o => o.Validate() is null, "invalid MtActors:Sessions options")
            .ValidateOnStart();
        return services;
    }
}
