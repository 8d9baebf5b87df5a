using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using MtActors.Grains;
using MtActors.Silo.Gateway;
using MtActors.Silo.Hosting;
using MtActors.Silo.Postgres;
using MtActors.Silo.Rsa;
using Orleans.TestingHost;

namespace MtActors.Interop.Tests.Infrastructure;

/// <summary>
/// An MtActors server in this process, as an application's integration test would start one: a throwaway PostgreSQL
/// (the host's LocalPostgres) with the project's schema, an Orleans in-process test cluster wired by
/// <see cref="OrleansStorageExtensions.UseMtActorsPostgres"/>, and the MTProto gateway on 127.0.0.1 at a free port,
/// with an RSA key the gateway generates in a temp key directory (fingerprint top byte &gt;= 0x10, so mtcute can use it).
/// Real clients connect to <see cref="Port"/> with <see cref="PublicKeyPath"/>.
/// </summary>
public sealed class MtActorsTestServer : IAsyncDisposable
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(60);

    private readonly LocalPostgres _postgres;
    private readonly InProcessTestCluster _cluster;
    private readonly string _keyDirectory;

    private MtActorsTestServer(LocalPostgres postgres, InProcessTestCluster cluster, string keyDirectory, MtProtoGateway gateway)
    {
        _postgres = postgres;
        _cluster = cluster;
        _keyDirectory = keyDirectory;
        Gateway = gateway;
    }

    /// <summary>The gateway of the (first) silo.</summary>
    public MtProtoGateway Gateway { get; }

    /// <summary>The MTProto port on 127.0.0.1.</summary>
    public int Port => Gateway.EndPoint!.Port;

    /// <summary>The server's public key, PKCS#1 PEM file (what the drivers' <c>--rsa-key</c> takes).</summary>
    public string PublicKeyPath => Gateway.RsaKeys!.PublicKeysFile!;

    /// <summary>The server's public key, PKCS#1 PEM.</summary>
    public string PublicKeyPem => Gateway.RsaKeys!.Keys[0].PublicKeyPem;

    /// <summary>The key's MTProto fingerprint.</summary>
    public long Fingerprint => Gateway.RsaKeys!.Keys[0].Fingerprint;

    /// <summary>Where the gateway generated its key.</summary>
    public string KeyDirectory => _keyDirectory;

    /// <summary>A cluster client, e.g. to register pre-shared auth keys or inspect sessions.</summary>
    public IGrainFactory Grains => _cluster.Client;

    /// <summary>PostgreSQL connection string of the cluster's database.</summary>
    public string ConnectionString => _postgres.ConnectionString;

    /// <summary>Starts PostgreSQL, the cluster and the gateway; <paramref name="configure"/> may change the gateway options.</summary>
    public static async Task<MtActorsTestServer> StartAsync(Action<MtProtoGatewayOptions>? configure = null)
    {
        using var timeout = new CancellationTokenSource(StartBound);
        var postgres = await LocalPostgres.StartThrowawayAsync("mtactors_interop", cancellationToken: timeout.Token);
        var keyDirectory = Directory.CreateTempSubdirectory("mtactors-interop-keys-").FullName;
        InProcessTestCluster? cluster = null;
        try
        {
            await SchemaMigrator.ApplyAsync(postgres.ConnectionString, cancellationToken: timeout.Token);
            var builder = new InProcessTestClusterBuilder(1);
            builder.Options.ServiceId = "interop";
            builder.Options.ClusterId = "interop-" + Guid.NewGuid().ToString("N")[..8];
            builder.ConfigureSilo((_, silo) => silo
                .UseMtActorsPostgres(postgres.ConnectionString)
                .AddMtProtoGateway(o =>
                {
                    o.Address = "127.0.0.1";
                    o.Port = 0;
                    o.KeyDirectory = keyDirectory;
                    configure?.Invoke(o);
                }));
            cluster = builder.Build();
            await cluster.DeployAsync(timeout.Token);
            var gateway = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<MtProtoGateway>();
            if (gateway.EndPoint is null)
            {
                throw new InvalidOperationException("The MTProto gateway did not start with the silo.");
            }

            return new MtActorsTestServer(postgres, cluster, keyDirectory, gateway);
        }
        catch
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }

            await postgres.DisposeAsync();
            Directory.Delete(keyDirectory, recursive: true);
            throw;
        }
    }

    /// <summary>A new random 256-byte auth key registered (permanent) through the cluster client: a pre-shared key.</summary>
    public async Task<byte[]> CreatePreSharedKeyAsync()
    {
        var key = RandomNumberGenerator.GetBytes(256);
        key[0] |= 0x80; // clients keep keys as minimal big-endian numbers in places; a full-width key is safe everywhere
        var id = Protocol.Crypto.AuthKey.ComputeId(key);
        var result = await Grains.GetAuthKeyGrain(id).Register(new AuthKeyRegistration(key, AuthKeyKind.Permanent, null, null));
        return result == AuthKeyRegisterResult.Registered
            ? key
            : throw new InvalidOperationException($"Registering a pre-shared key gave {result}.");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _cluster.StopAllSilosAsync().WaitAsync(StopBound);
        }
        catch (TimeoutException)
        {
            // disposing below kills what is left
        }
        finally
        {
            await _cluster.DisposeAsync();
            await _postgres.DisposeAsync();
            try
            {
                Directory.Delete(_keyDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>One <see cref="MtActorsTestServer"/> for every test of the <see cref="ServerCollection"/>.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public MtActorsTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MtActorsTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

/// <summary>Tests against one shared server, run one after another (real clients are CPU-hungry; no flakes from contention).</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "mtactors-server";
}
