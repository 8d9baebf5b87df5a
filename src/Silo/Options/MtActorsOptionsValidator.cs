using System.Net;
using Microsoft.Extensions.Options;

namespace MtActors.Silo.Options;

/// <summary>Checks <see cref="MtActorsOptions"/> at start; every problem is reported with the setting's name.</summary>
public sealed class MtActorsOptionsValidator : IValidateOptions<MtActorsOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, MtActorsOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>The list of problems, empty when the options are valid.</summary>
    public static List<string> Check(MtActorsOptions o)
    {
        var errors = new List<string>();
        const string s = MtActorsOptions.SectionName;
        CheckId(errors, $"{s}:ClusterId", o.ClusterId);
        CheckId(errors, $"{s}:ServiceId", o.ServiceId);
        if (o.Instance is < 1 or > 100)
        {
            errors.Add($"{s}:Instance must be 1..100 (got {o.Instance}).");
        }
        else
        {
            CheckPort(errors, $"{s}:SiloPort", o.SiloPort, o.EffectiveSiloPort, allowZero: false);
            CheckPort(errors, $"{s}:GatewayPort", o.GatewayPort, o.EffectiveGatewayPort, allowZero: false);
            CheckPort(errors, $"{s}:Http:Port", o.Http.Port, o.EffectiveHttpPort, allowZero: true);

            if (o.EffectiveSiloPort == o.EffectiveGatewayPort)
            {
                errors.Add($"{s}:SiloPort and {s}:GatewayPort must differ (both {o.EffectiveSiloPort}).");
            }

            o.MtProto.Check($"{s}:MtProto", errors, o.PortOffset);
            if (o.MtProto.Enabled && o.EffectiveMtProtoPort != 0 &&
                (o.EffectiveMtProtoPort == o.EffectiveSiloPort || o.EffectiveMtProtoPort == o.EffectiveGatewayPort ||
                 o.EffectiveMtProtoPort == o.EffectiveHttpPort))
            {
                errors.Add($"{s}:MtProto:Port {o.EffectiveMtProtoPort} is already the silo, gateway or HTTP port.");
            }
        }

        if (!IPAddress.TryParse(o.AdvertisedIP, out var advertised) || advertised.Equals(IPAddress.Any) ||
            advertised.Equals(IPAddress.IPv6Any))
        {
            errors.Add($"{s}:AdvertisedIP must be an IP address other silos and clients can reach (got '{o.AdvertisedIP}').");
        }

        if (!IPAddress.TryParse(o.Http.Address, out _))
        {
            errors.Add($"{s}:Http:Address must be an IP address (got '{o.Http.Address}').");
        }

        if (o.EmbeddedPostgresPort is < 0 or > 65535)
        {
            errors.Add($"{s}:EmbeddedPostgresPort must be 0..65535 (got {o.EmbeddedPostgresPort}).");
        }

        if (!Enum.IsDefined(o.GrainDirectory))
        {
            errors.Add($"{s}:GrainDirectory must be Strong or Eventual (got {o.GrainDirectory}).");
        }

        if (o.ShutdownTimeoutSeconds is < 1 or > 3600)
        {
            errors.Add($"{s}:ShutdownTimeoutSeconds must be 1..3600 (got {o.ShutdownTimeoutSeconds}).");
        }

        try
        {
            _ = o.ResolvedDataDirectory;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or PathTooLongException)
        {
            errors.Add($"{s}:DataDirectory is not usable: {ex.Message}");
        }

        return errors;
    }

    private static void CheckId(List<string> errors, string name, string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 150 || value.Any(char.IsWhiteSpace))
        {
            errors.Add($"{name} must be 1..150 characters without spaces (got '{value}').");
        }
    }

    private static void CheckPort(List<string> errors, string name, int configured, int effective, bool allowZero)
    {
        if (allowZero && configured == 0)
        {
            return;
        }

        if (configured is < 1 or > 65535 || effective > 65535)
        {
            errors.Add($"{name} must be 1..65535{(allowZero ? " or 0" : "")} after the instance offset (got {effective}).");
        }
    }
}
