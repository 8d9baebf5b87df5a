using System.Reflection;
using MtActors.Silo.Http;
using MtActors.Silo.Observability;
using MtActors.Silo.Options;
using Orleans.Hosting.Kubernetes;

namespace MtActors.Grains.Tests.Deploy;

/// <summary>
/// Every configuration key the silo reads, taken from its options classes by reflection (so a renamed setting makes
/// the deploy files' variables fail the tests), plus the plain environment variables it or its libraries read.
/// </summary>
public static class ConfigKeys
{
    /// <summary>Key patterns (":"-separated, case-insensitive); "*" stands for one dictionary key.</summary>
    public static IReadOnlyList<string> Patterns { get; } = Build();

    /// <summary>Environment variables read as such (not through the MtActors configuration).</summary>
    public static IReadOnlySet<string> PlainVariables { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        DataDirectories.EnvironmentVariable,
        KubernetesHostingOptions.PodNameEnvironmentVariable,
        KubernetesHostingOptions.PodNamespaceEnvironmentVariable,
        KubernetesHostingOptions.PodIPEnvironmentVariable,
        KubernetesHostingOptions.ServiceIdEnvironmentVariable,
        KubernetesHostingOptions.ClusterIdEnvironmentVariable,
        "DOTNET_gcServer",
        "DOTNET_ENVIRONMENT",
        "ASPNETCORE_ENVIRONMENT",
    };

    private static List<string> Build()
    {
        var keys = new List<string> { $"ConnectionStrings:{MtActorsOptions.ConnectionStringName}" };
        Walk(typeof(MtActorsOptions), MtActorsOptions.SectionName, keys);
        Walk(typeof(HttpApiOptions), HttpApiOptions.SectionName, keys);
        Walk(typeof(ObservabilityOptions), ObservabilityOptions.SectionName, keys);
        Walk(typeof(KubernetesOptions), KubernetesOptions.SectionName, keys);
        Walk(typeof(SessionOptions), SessionOptions.Section, keys);
        return keys;
    }

    private static void Walk(Type type, string prefix, List<string> keys)
    {
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.SetMethod is not { IsPublic: true })
            {
                continue; // computed
            }

            var key = $"{prefix}:{p.Name}";
            var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            if (t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan))
            {
                keys.Add(key);
            }
            else if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>) && t.GetGenericArguments()[0] == typeof(string))
            {
                keys.Add(key + ":*"); // a list of strings: Name:0, Name:1, ...
            }
            else if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                var valueType = t.GetGenericArguments()[1];
                if (valueType == typeof(string))
                {
                    keys.Add(key + ":*");
                }
                else
                {
                    Walk(valueType, key + ":*", keys);
                }
            }
            else if (t.IsClass)
            {
                Walk(t, key, keys);
            }
        }
    }

    /// <summary>True when <paramref name="variable"/> is read by the silo.</summary>
    public static bool IsKnownVariable(string variable)
    {
        if (PlainVariables.Contains(variable))
        {
            return true;
        }

        var segments = variable.Split("__");
        return Patterns.Any(p => Matches(p.Split(':'), segments));
    }

    private static bool Matches(string[] pattern, string[] segments) =>
        pattern.Length == segments.Length &&
        pattern.Zip(segments).All(x => x.First == "*" ? x.Second.Length > 0 : string.Equals(x.First, x.Second, StringComparison.OrdinalIgnoreCase));
}
