using System.Net;
using MtActors.Silo.Gateway;

namespace MtActors.Silo.Options;

/// <summary>
/// The silo's settings, bound from the configuration section <c>MtActors</c> (appsettings.json, environment variables
/// <c>MtActors__Name</c>, command line <c>--MtActors:Name=value</c>). The database comes from
/// <c>ConnectionStrings:MtActors</c>; without it the silo runs its own PostgreSQL under <see cref="DataDirectory"/>.
/// </summary>
public sealed class MtActorsOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "MtActors";

    /// <summary>Name of the connection string (<c>ConnectionStrings:MtActors</c>).</summary>
    public const string ConnectionStringName = "MtActors";

    /// <summary>Orleans cluster id: silos and clients with the same id and database form one cluster.</summary>
    public string ClusterId { get; set; } = "mtactors";

    /// <summary>Orleans service id: keys the persisted grain state; keep it stable across deployments.</summary>
    public string ServiceId { get; set; } = "mtactors";

    /// <summary>
    /// Instance number (1..100) of this silo on its machine. Every port is offset by <c>Instance - 1</c>, so that
    /// several silos can run side by side. Instances above 1 never start the embedded PostgreSQL: without a
    /// connection string they join the cluster described by instance 1's cluster.json.
    /// </summary>
    public int Instance { get; set; } = 1;

    /// <summary>Silo-to-silo port (before the instance offset).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port cluster clients (the mtactors CLI) connect to (before the instance offset).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Address other silos and clients reach this silo on; 127.0.0.1 keeps it on this machine.</summary>
    public string AdvertisedIP { get; set; } = "127.0.0.1";

    /// <summary>Bind the silo and gateway ports on all addresses instead of only <see cref="AdvertisedIP"/>.</summary>
    public bool ListenOnAnyHostAddress { get; set; }

    /// <summary>
    /// Where the embedded PostgreSQL, cluster.json and (later) generated keys live. Default:
    /// <c>$XDG_DATA_HOME/mtactors</c>, else <c>~/.local/share/mtactors</c>; <c>/var/lib/mtactors</c> for root.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>Loopback port of the embedded PostgreSQL; 0 picks a free port at every start.</summary>
    public int EmbeddedPostgresPort { get; set; }

    /// <summary>Apply the database schema at start (safe to repeat). Turn off where a migration job does it.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>Seconds the silo may take to shut down gracefully (deactivate grains, write state).</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Configuration section bound to Orleans' <c>ClusterMembershipOptions</c> (same property names: ProbeTimeout,
    /// NumMissedProbesLimit, TableRefreshTimeout, DeathVoteExpirationTimeout, IAmAliveTablePublishTimeout, ...).
    /// Orleans' defaults when absent; lower values declare a killed silo dead sooner (docs/scale-out.md).
    /// </summary>
    public const string MembershipSectionName = SectionName + ":Membership";

    /// <summary>
    /// Configuration section bound to Orleans' <c>GrainDirectoryOptions</c> (e.g. <c>RangeLeaseDuration</c>: how long the
    /// strong directory refuses to re-activate a crashed silo's grains; MtActors turns it off, see docs/scale-out.md).
    /// </summary>
    public const string DirectorySectionName = SectionName + ":Directory";

    /// <summary>
    /// Which grain directory the silo uses (all silos of a cluster must agree): <see cref="GrainDirectoryKind.Strong"/>
    /// (default) or <see cref="GrainDirectoryKind.Eventual"/>. See docs/scale-out.md.
    /// </summary>
    public GrainDirectoryKind GrainDirectory { get; set; } = GrainDirectoryKind.Strong;

    /// <summary>The HTTP endpoint (health, metrics, admin API).</summary>
    public HttpEndpointOptions Http { get; set; } = new();

    /// <summary>The MTProto TCP endpoint (<c>MtActors:MtProto</c>; its port gets the instance offset too).</summary>
    public MtProtoGatewayOptions MtProto { get; set; } = new();

    /// <summary>Port offset of this instance.</summary>
    public int PortOffset => Instance - 1;

    /// <summary>Effective silo-to-silo port.</summary>
    public int EffectiveSiloPort => SiloPort + PortOffset;

    /// <summary>Effective client gateway port.</summary>
    public int EffectiveGatewayPort => GatewayPort + PortOffset;

    /// <summary>Effective HTTP port (0 stays 0: any free port).</summary>
    public int EffectiveHttpPort => Http.Port == 0 ? 0 : Http.Port + PortOffset;

    /// <summary>Effective MTProto port (0 stays 0: any free port).</summary>
    public int EffectiveMtProtoPort => MtProto.Port == 0 ? 0 : MtProto.Port + PortOffset;

    /// <summary>The data directory with the default applied, as an absolute path.</summary>
    public string ResolvedDataDirectory => DataDirectories.Resolve(DataDirectory);

    /// <summary>Parsed <see cref="AdvertisedIP"/>; valid after validation.</summary>
    public IPAddress AdvertisedAddress => IPAddress.Parse(AdvertisedIP);
}

/// <summary>HTTP endpoint settings (<c>MtActors:Http</c>).</summary>
public sealed class HttpEndpointOptions
{
    /// <summary>Address Kestrel binds; loopback by default.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Port (before the instance offset); 0 picks a free port.</summary>
    public int Port { get; set; } = 5080;
}

/// <summary>The grain directory choice (<c>MtActors:GrainDirectory</c>).</summary>
public enum GrainDirectoryKind
{
    /// <summary>
    /// Orleans' strongly consistent in-cluster directory (<c>AddDistributedGrainDirectory</c>): among live silos a grain
    /// has at most one activation, also while silos join or die, and activations survive another silo's death.
    /// </summary>
    Strong = 0,

    /// <summary>Orleans' classic default directory: eventually consistent, short-lived duplicates possible.</summary>
    Eventual = 1,
}
