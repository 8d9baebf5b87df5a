using System.Collections.Frozen;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MtActors.Grains.Api;

/// <summary>One handler registration (what <see cref="MtProtoApiServiceCollectionExtensions"/> adds to DI).</summary>
/// <param name="ConstructorId">The method's constructor id; null for the fallback handler (every id without its own handler).</param>
public sealed record MtProtoApiRegistration(uint? ConstructorId, Func<IServiceProvider, IMtProtoApiHandler> Factory);

/// <summary>
/// Finds the handler of a constructor id: the application's own registration, else the fallback registration,
/// else (when <see cref="SessionOptions.BuiltInTestMethods"/> is on) the built-in test methods
/// (<see cref="BuiltInTestMethods"/>), else none (the session answers rpc_error 400 METHOD_INVALID).
/// Built once per silo; two registrations for one id are a configuration error reported at start.
/// </summary>
public sealed class MtProtoApiRouter
{
    private readonly FrozenDictionary<uint, IMtProtoApiHandler> _handlers;
    private readonly IMtProtoApiHandler? _fallback;

    public MtProtoApiRouter(IEnumerable<MtProtoApiRegistration> registrations, IServiceProvider services, IOptions<SessionOptions> options)
    {
        var handlers = new Dictionary<uint, IMtProtoApiHandler>();
        foreach (MtProtoApiRegistration registration in registrations)
        {
            IMtProtoApiHandler handler = registration.Factory(services);
            if (registration.ConstructorId is not { } id)
            {
                if (_fallback is not null) throw new InvalidOperationException("More than one fallback MTProto API handler is registered.");
                _fallback = handler;
            }
            else if (!handlers.TryAdd(id, handler))
            {
                throw new InvalidOperationException($"More than one MTProto API handler is registered for constructor 0x{id:x8}.");
            }
        }
        if (options.Value.BuiltInTestMethods)
        {
            var builtIn = new BuiltInTestMethods();
            foreach (uint id in BuiltInTestMethods.ConstructorIds) handlers.TryAdd(id, builtIn);
        }
        _handlers = handlers.ToFrozenDictionary();
    }

    /// <summary>The handler for <paramref name="constructorId"/>, or null (unknown method).</summary>
    public IMtProtoApiHandler? Find(uint constructorId) => _handlers.GetValueOrDefault(constructorId) ?? _fallback;
}

/// <summary>Registration of application API handlers.</summary>
public static class MtProtoApiServiceCollectionExtensions
{
    /// <summary>Registers <paramref name="handler"/> for the method with constructor id <paramref name="constructorId"/>.</summary>
    public static IServiceCollection AddMtProtoApiHandler(this IServiceCollection services, uint constructorId, IMtProtoApiHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return services.AddMtProtoApiRegistration(new MtProtoApiRegistration(constructorId, _ => handler));
    }

    /// <summary>Registers a delegate for the method with constructor id <paramref name="constructorId"/>.</summary>
    public static IServiceCollection AddMtProtoApiHandler(
        this IServiceCollection services, uint constructorId, Func<ApiRequest, CancellationToken, ValueTask<ApiResult>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return services.AddMtProtoApiHandler(constructorId, new DelegateHandler(handler));
    }

    /// <summary>Registers <typeparamref name="THandler"/> (created once, with constructor injection) for <paramref name="constructorIds"/>.</summary>
    public static IServiceCollection AddMtProtoApiHandler<THandler>(this IServiceCollection services, params uint[] constructorIds)
        where THandler : class, IMtProtoApiHandler
    {
        services.TryAddSingleton<THandler>();
        foreach (uint id in constructorIds)
        {
            services.AddMtProtoApiRegistration(new MtProtoApiRegistration(id, sp => sp.GetRequiredService<THandler>()));
        }
        return services;
    }

    /// <summary>Registers the handler for every constructor id that has no handler of its own.</summary>
    public static IServiceCollection AddMtProtoApiFallbackHandler(this IServiceCollection services, IMtProtoApiHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return services.AddMtProtoApiRegistration(new MtProtoApiRegistration(null, _ => handler));
    }

    private static IServiceCollection AddMtProtoApiRegistration(this IServiceCollection services, MtProtoApiRegistration registration)
    {
        services.AddSingleton(registration);
        services.TryAddSingleton<MtProtoApiRouter>();
        return services;
    }

    private sealed class DelegateHandler(Func<ApiRequest, CancellationToken, ValueTask<ApiResult>> handler) : IMtProtoApiHandler
    {
        public ValueTask<ApiResult> HandleAsync(ApiRequest request, CancellationToken cancellationToken) => handler(request, cancellationToken);
    }
}
