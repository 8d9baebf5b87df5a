using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using MtActors.Grains;
using MtActors.Grains.AuthKeys;
using MtActors.Protocol.Crypto;
using MtActors.Silo.Gateway;
using MtActors.Silo.Hosting;
using MtActors.Silo.Postgres;
using MtActors.Silo.Rsa;
using Orleans.TestingHost;

namespace MtActors.Testing;

/// <summary>A 256-byte auth key registered on a test server (a "pre-shared" key a client can start from).</summary>
/// <param name="Key">The key material, as clients take it (e.g. GramJS <c>AuthKey.setKey</c>, mtcute <c>storage.authKeys.set</c>).</param>
/// <param name="Id">Its auth_key_id (the low 64 bits of SHA1(key)).</param>
public sealed record TestAuthKey(byte[] Key, long Id)
{
    /// <summary>The key as 512 lowercase hex digits.</summary>
    public string Hex => Convert.ToHexString(Key).ToLowerInvariant();
}

/// <summary>
/// MtActors running inside the test process: an Orleans in-process test cluster with the MtActors grains, state in
/// memory or in PostgreSQL, and on every silo the MTProto endpoint on 127.0.0.1 at a free port. A test connects its
/// own MTProto client to <see cref="Address"/>:<see cref="Port"/> with DC id <see cref="DcId"/>, pinning
/// <see cref="PublicKeyPem"/> (fingerprint <see cref="Fingerprint"/>), or starts from a key made with
/// <see cref="CreateAuthKeyAsync"/>; it can look at sessions and keys through <see cref="Grains"/>. Independent of any
/// test framework; <see cref="MtActorsFixture"/> adapts it to xunit.
/// </summary>
/// <example>
/// <code>
/// await using var server = await MtActorsTestServer.StartAsync();
/// // connect a client to server.Address:server.Port with server.PublicKeyPem, then e.g.:
/// var sessions = await server.GetSessionIdsAsync(authKeyId);
/// </code>
/// </example>
public sealed class MtActorsTestServer : IAsyncDisposable
{
    private static readonly Lazy<string> ProcessKeyPem = new(() =>
    {
        using var key = ServerRsaKeys.GenerateClientCompatible();
        return key.ExportPrivateKeyPem();
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly MtActorsTestServerOptions _options;
    private readonly LocalPostgres? _ownPostgres;
    private readonly string _keyDirectory;
    private int _disposed;

    private MtActorsTestServer(
        MtActorsTestServerOptions options, InProcessTestCluster cluster, LocalPostgres? ownPostgres,
        string? connectionString, string keyDirectory, string serviceId)
    {
        _options = options;
        Cluster = cluster;
        _ownPostgres = ownPostgres;
        ConnectionString = connectionString;
        _keyDirectory = keyDirectory;
        ServiceId = serviceId;
    }

    /// <summary>Address the MTProto endpoints listen on (127.0.0.1 unless <see cref="MtActorsTestServerOptions.ConfigureGateway"/> changed it).</summary>
    public string Address => EndPoint.Address.ToString();

    /// <summary>The MTProto port of the first silo.</summary>
    public int Port => EndPoint.Port;

    /// <summary>The MTProto endpoint of the first silo.</summary>
    public IPEndPoint EndPoint => Gateway.EndPoint ?? throw new InvalidOperationException("The MTProto gateway is not listening.");

    /// <summary>The MTProto endpoint of every running silo (a client may use any of them).</summary>
    public IReadOnlyList<IPEndPoint> EndPoints =>
        [.. Cluster.Silos.Select(s => GatewayOf(s.SiloAddress).EndPoint).OfType<IPEndPoint>()];

    /// <summary>The DC id clients must name (see <see cref="MtActorsTestServerOptions.DcId"/>).</summary>
    public int DcId => Gateway.Options.DcId;

    /// <summary>The server's RSA public key as clients pin it: PKCS#1 PEM (<c>-----BEGIN RSA PUBLIC KEY-----</c>).</summary>
    public string PublicKeyPem => Keys.Keys[0].PublicKeyPem;

    /// <summary>A file holding <see cref="PublicKeyPem"/> (for clients or tools that take a path).</summary>
    public string PublicKeyPath => Keys.PublicKeysFile ?? throw new InvalidOperationException("No public key file was written.");

    /// <summary>The key's MTProto fingerprint (what resPQ lists).</summary>
    public long Fingerprint => Keys.Keys[0].Fingerprint;

    /// <summary>The fingerprint as 0x + 16 hex digits.</summary>
    public string FingerprintHex => Keys.Keys[0].FingerprintHex;

    /// <summary>Where the server's key files are (deleted with the server).</summary>
    public string KeyDirectory => _keyDirectory;

    /// <summary>The storage in use.</summary>
    public MtActorsStorage Storage => _options.Storage;

    /// <summary>PostgreSQL connection string of the state (null with in-memory storage).</summary>
    public string? ConnectionString { get; }

    /// <summary>The Orleans service id (state rows in PostgreSQL are keyed by it).</summary>
    public string ServiceId { get; }

    /// <summary>The Orleans test cluster (silos, client, kill/restart a silo, ...).</summary>
    public InProcessTestCluster Cluster { get; }

    /// <summary>A cluster client: call the grains (<c>GetSessionGrain(authKeyId, sessionId)</c>, <c>GetAuthKeyGrain(authKeyId)</c>).</summary>
    public IClusterClient Client => Cluster.Client;

    /// <summary>The grain factory of <see cref="Client"/>.</summary>
    public IGrainFactory Grains => Cluster.Client;

    /// <summary>The MTProto gateway of the first silo.</summary>
    public MtProtoGateway Gateway => GatewayOf(Cluster.Silos[0].SiloAddress);

    private ServerRsaKeys Keys => Gateway.RsaKeys ?? throw new InvalidOperationException("The MTProto gateway has not started.");

    /// <summary>Starts a server configured by <paramref name="configure"/>.</summary>
    public static Task<MtActorsTestServer> StartAsync(Action<MtActorsTestServerOptions> configure, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new MtActorsTestServerOptions();
        configure(options);
        return StartAsync(options, cancellationToken);
    }

    /// <summary>
    /// Starts PostgreSQL when asked for (and applies the schema), the silos with the grains and the MTProto endpoints;
    /// returns once every endpoint listens. Everything started is stopped again when starting fails.
    /// </summary>
    /// <exception cref="TimeoutException">Not started within <see cref="MtActorsTestServerOptions.StartTimeout"/>.</exception>
    public static async Task<MtActorsTestServer> StartAsync(MtActorsTestServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new MtActorsTestServerOptions();
        options.Validate();
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(options.StartTimeout);
        var serviceId = options.ServiceId ?? "mtactors-test-" + Guid.NewGuid().ToString("N")[..10];
        var keyDirectory = Directory.CreateTempSubdirectory("mtactors-test-keys-").FullName;
        LocalPostgres? ownPostgres = null;
        InProcessTestCluster? cluster = null;
        try
        {
            var keyFile = WritePrivateKey(keyDirectory, options.RsaPrivateKeyPem ?? ProcessKeyPem.Value);
            string? connectionString = null;
            if (options.Storage == MtActorsStorage.PostgreSql)
            {
                if (options.PostgresConnectionString is { } given)
                {
                    connectionString = given;
                }
                else
                {
                    ownPostgres = await LocalPostgres.StartThrowawayAsync("mtactors_test", cancellationToken: bound.Token);
                    connectionString = ownPostgres.ConnectionString;
                }

                await SchemaMigrator.ApplyAsync(connectionString, cancellationToken: bound.Token);
            }

            var sessionDirectory = new InMemorySessionDirectory();
            var builder = new InProcessTestClusterBuilder(options.Silos);
            builder.Options.ServiceId = serviceId;
            builder.Options.ClusterId = serviceId + "-" + Guid.NewGuid().ToString("N")[..6];
            builder.ConfigureSilo((_, silo) =>
            {
                if (connectionString is not null)
                {
                    silo.UseMtActorsPostgres(connectionString);
                }
                else
                {
                    foreach (var name in OrleansStorageExtensions.StorageNames)
                    {
                        silo.AddMemoryGrainStorage(name);
                    }

                    silo.Services.AddSingleton<ISessionDirectory>(sessionDirectory); // shared, like the memory storage
                    silo.Services.AddMtActorsGrainServices();
                }

                if (options.GrainClock is { } clock)
                {
                    silo.Services.AddKeyedSingleton(GrainServices.ClockKey, clock);
                }

                silo.AddMtProtoGateway(o =>
                {
                    o.Address = "127.0.0.1";
                    o.Port = 0;
                    o.DcId = options.DcId;
                    o.RsaKeyFiles = [keyFile];
                    o.KeyDirectory = keyDirectory;
                    options.ConfigureGateway?.Invoke(o);
                });
                options.ConfigureServices?.Invoke(silo.Services);
                options.ConfigureSilo?.Invoke(silo);
            });
            cluster = builder.Build();
            await cluster.DeployAsync(bound.Token).WaitAsync(bound.Token);
            var server = new MtActorsTestServer(options, cluster, ownPostgres, connectionString, keyDirectory, serviceId);
            foreach (var silo in cluster.Silos)
            {
                if (server.GatewayOf(silo.SiloAddress).EndPoint is null)
                {
                    throw new InvalidOperationException(
                        $"The MTProto gateway of silo {silo.SiloAddress} is not listening (is it disabled by ConfigureGateway?).");
                }
            }

            return server;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await CleanUpAsync(cluster, ownPostgres, keyDirectory, options.StopTimeout);
            throw new TimeoutException($"MtActors did not start within {options.StartTimeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            await CleanUpAsync(cluster, ownPostgres, keyDirectory, options.StopTimeout);
            throw;
        }
    }

    /// <summary>Registers a new random permanent auth key (a pre-shared key a client can start from).</summary>
    public async Task<TestAuthKey> CreateAuthKeyAsync()
    {
        var key = RandomNumberGenerator.GetBytes(AuthKey.Length);
        // Clients keep keys as minimal big-endian numbers in places (real-clients.md): a full-width key is safe everywhere.
        key[0] |= 0x80;
        return new TestAuthKey(key, await RegisterAuthKeyAsync(key));
    }

    /// <summary>The key material of a new registered permanent auth key (see <see cref="CreateAuthKeyAsync"/>).</summary>
    public async Task<byte[]> CreatePreSharedKeyAsync() => (await CreateAuthKeyAsync()).Key;

    /// <summary>
    /// Registers <paramref name="key"/> (256 bytes) as an auth key; returns its id. A temporary key needs
    /// <paramref name="expiresAt"/> in the future. Registering the same key twice is fine.
    /// </summary>
    /// <exception cref="ArgumentException">Not 256 bytes, or another key with the same id is registered.</exception>
    public async Task<long> RegisterAuthKeyAsync(byte[] key, AuthKeyKind kind = AuthKeyKind.Permanent, DateTimeOffset? expiresAt = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != AuthKey.Length)
        {
            throw new ArgumentException($"An auth key is {AuthKey.Length} bytes (got {key.Length}).", nameof(key));
        }

        var id = AuthKey.ComputeId(key);
        var result = await Grains.GetAuthKeyGrain(id)
            .Register(new AuthKeyRegistration([.. key], kind, expiresAt, InitialSalt: null));
        return result is AuthKeyRegisterResult.Registered or AuthKeyRegisterResult.AlreadyRegistered
            ? id
            : throw new ArgumentException($"The auth key was not registered: {result}.", nameof(key));
    }

    /// <summary>True when the auth key exists (registered, not destroyed, not expired).</summary>
    public async Task<bool> AuthKeyExistsAsync(long authKeyId) => await Grains.GetAuthKeyGrain(authKeyId).Get() is not null;

    /// <summary>The ids of the auth key's live sessions (empty for an unknown key).</summary>
    public Task<ImmutableArray<long>> GetSessionIdsAsync(long authKeyId) => Grains.GetAuthKeyGrain(authKeyId).GetSessionIds();

    /// <summary>A session's state (null when it does not exist); never creates it.</summary>
    public Task<SessionInfo?> GetSessionAsync(long authKeyId, long sessionId) => Grains.GetSessionGrain(authKeyId, sessionId).GetInfo();

    /// <summary>destroy_session from the server side: true when the session existed.</summary>
    public Task<bool> DestroySessionAsync(long authKeyId, long sessionId) => Grains.GetSessionGrain(authKeyId, sessionId).Destroy();

    /// <summary>destroy_auth_key from the server side: every session, then the key.</summary>
    public Task<DestroyAuthKeyResult> DestroyAuthKeyAsync(long authKeyId) => Grains.GetAuthKeyGrain(authKeyId).DestroyAuthKey();

    /// <summary>The MTProto gateway of one silo.</summary>
    public MtProtoGateway GatewayOf(SiloAddress silo) =>
        Cluster.GetSiloServiceProvider(silo).GetRequiredService<MtProtoGateway>();

    /// <summary>Stops the silos (gracefully, bounded), then PostgreSQL if it was the server's own; deletes the key files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await CleanUpAsync(Cluster, _ownPostgres, _keyDirectory, _options.StopTimeout);
    }

    private static string WritePrivateKey(string keyDirectory, string pem)
    {
        var path = Path.Combine(keyDirectory, "test-server-rsa-key.pem");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(new FileStream(path, options));
        writer.Write(pem);
        return path;
    }

    private static async Task CleanUpAsync(InProcessTestCluster? cluster, LocalPostgres? postgres, string keyDirectory, TimeSpan stopTimeout)
    {
        try
        {
            if (cluster is not null)
            {
                try
                {
                    using var stop = new CancellationTokenSource(stopTimeout);
                    await cluster.StopAllSilosAsync(stop.Token).WaitAsync(stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
                {
                    // Disposing below ends what is left.
                }
                finally
                {
                    await cluster.DisposeAsync();
                }
            }
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }

            try
            {
                Directory.Delete(keyDirectory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A temp directory left behind is harmless.
            }
        }
    }
}
