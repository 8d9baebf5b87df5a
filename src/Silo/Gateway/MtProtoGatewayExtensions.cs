using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MtActors.Silo.Options;
using MtActors.Silo.Rsa;

namespace MtActors.Silo.Gateway;

/// <summary>Adds the MTProto TCP gateway to a silo (the MtActors host, or an Orleans test cluster's silos).</summary>
public static class MtProtoGatewayExtensions
{
    /// <summary>
    /// Adds the gateway: it opens its port when the silo becomes active and closes it first when the silo stops.
    /// Give it an RSA key (<see cref="MtProtoGatewayOptions.RsaKeyFiles"/>) or a <see cref="MtProtoGatewayOptions.KeyDirectory"/>
    /// where it generates one; <see cref="MtProtoGatewayOptions.Port"/> 0 picks a free port (see <see cref="MtProtoGateway.EndPoint"/>).
    /// </summary>
    /// <example>
    /// <code>
    /// builder.ConfigureSilo((_, silo) => silo
    ///     .UseMtActorsPostgres(connectionString)
    ///     .AddMtProtoGateway(o => { o.Port = 0; o.KeyDirectory = keyDirectory; }));
    /// // later: cluster.Silos[0].ServiceProvider.GetRequiredService&lt;MtProtoGateway&gt;().EndPoint
    /// </code>
    /// </example>
    public static ISiloBuilder AddMtProtoGateway(this ISiloBuilder silo, Action<MtProtoGatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var options = silo.Services.AddOptions<MtProtoGatewayOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        silo.Services.AddSingleton<IValidateOptions<MtProtoGatewayOptions>, MtProtoGatewayOptionsValidator>();
        options.ValidateOnStart();
        silo.Services.AddSingleton<MtProtoGateway>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<MtProtoGateway>());
        return silo;
    }

    /// <summary>
    /// The silo host's wiring: section <c>MtActors:MtProto</c>, the port shifted by the instance offset, the generated key
    /// kept in &lt;data directory&gt;/mtproto.
    /// </summary>
    internal static ISiloBuilder AddMtProtoGateway(this ISiloBuilder silo, IConfiguration configuration, MtActorsOptions host) =>
        silo.AddMtProtoGateway(o =>
        {
            configuration.GetSection(MtProtoGatewayOptions.SectionName).Bind(o);
            o.Port = host.EffectiveMtProtoPort;
            if (string.IsNullOrWhiteSpace(o.KeyDirectory))
            {
                o.KeyDirectory = RsaKeyFiles.DirectoryIn(host.ResolvedDataDirectory);
            }
        });

    private sealed class MtProtoGatewayOptionsValidator : IValidateOptions<MtProtoGatewayOptions>
    {
        public ValidateOptionsResult Validate(string? name, MtProtoGatewayOptions options)
        {
            var errors = new List<string>();
            options.Check(MtProtoGatewayOptions.SectionName, errors);
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
