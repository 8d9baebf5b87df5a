namespace MtActors.Silo.Observability;

/// <summary>
/// Metrics, health and dashboard settings, section <c>MtActors:Observability</c>
/// (environment: <c>MtActors__Observability__...</c>). All endpoints are on the silo's HTTP endpoint
/// (<c>MtActors:Http</c>, loopback by default) and need no token: keep that endpoint off public networks.
/// </summary>
public sealed class ObservabilityOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "MtActors:Observability";

    /// <summary>Serve the Prometheus scrape endpoint.</summary>
    public bool MetricsEnabled { get; set; } = true;

    /// <summary>Path of the Prometheus scrape endpoint.</summary>
    public string MetricsPath { get; set; } = "/metrics";

    /// <summary>Also export Orleans' own meter (<c>Microsoft.Orleans</c>: activations, messaging, membership…).</summary>
    public bool OrleansMetrics { get; set; } = true;

    /// <summary>Bound of each readiness check (PostgreSQL <c>SELECT 1</c>), in seconds.</summary>
    public int ReadyTimeoutSeconds { get; set; } = 3;

    /// <summary>Serve the Orleans dashboard (off by default; it has no authentication of its own).</summary>
    public bool DashboardEnabled { get; set; }

    /// <summary>Path of the Orleans dashboard.</summary>
    public string DashboardPath { get; set; } = "/dashboard";

    /// <summary>The problems found, empty when valid.</summary>
    public List<string> Check()
    {
        const string s = SectionName;
        var errors = new List<string>();
        CheckPath(errors, $"{s}:MetricsPath", MetricsPath);
        CheckPath(errors, $"{s}:DashboardPath", DashboardPath);
        if (ReadyTimeoutSeconds is < 1 or > 60)
        {
            errors.Add($"{s}:ReadyTimeoutSeconds must be 1..60 (got {ReadyTimeoutSeconds}).");
        }

        if (MetricsEnabled && DashboardEnabled &&
            string.Equals(MetricsPath.TrimEnd('/'), DashboardPath.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{s}:MetricsPath and {s}:DashboardPath must differ.");
        }

        return errors;
    }

    private static void CheckPath(List<string> errors, string name, string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/' || path.Length > 100 || path.StartsWith("/health", StringComparison.OrdinalIgnoreCase) ||
            path.StartsWith("/api/", StringComparison.OrdinalIgnoreCase) ||
            !path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '_' or '.'))
        {
            errors.Add($"{name} must be a path such as /metrics (starting with /, letters, digits, / - _ ., not under /health or /api) (got '{path}').");
        }
    }
}

/// <summary>
/// Kubernetes hosting, section <c>MtActors:Kubernetes</c>. When enabled the silo calls Orleans'
/// <c>UseKubernetesHosting</c>: silo name = pod name, and silos whose pods are gone are declared dead early.
/// It needs the environment variables POD_NAME, POD_NAMESPACE, POD_IP, ORLEANS_SERVICE_ID, ORLEANS_CLUSTER_ID
/// and a service account that may get, list, watch and delete pods (deploy/k8s). Off everywhere else.
/// </summary>
public sealed class KubernetesOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "MtActors:Kubernetes";

    /// <summary>Use Orleans' Kubernetes hosting.</summary>
    public bool Enabled { get; set; }
}
