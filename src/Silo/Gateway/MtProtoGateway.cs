using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Transport;
using MtActors.Silo.Rsa;
using Orleans.Runtime;

namespace MtActors.Silo.Gateway;

/// <summary>
/// The MTProto TCP front door of one silo: listens on <see cref="MtProtoGatewayOptions.Address"/>:<see cref="MtProtoGatewayOptions.Port"/>
/// with Kestrel's socket transport and runs every connection through <see cref="MtProtoConnectionHandler"/>.
/// It joins the silo lifecycle: it opens the port once the silo is active (grains callable) and closes it, and
/// every connection, first when the silo stops. Silo-wide limits (connections, key exchanges in flight) live here.
/// </summary>
public sealed class MtProtoGateway : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly MtProtoGatewayOptions _options;
    private readonly IGrainFactory _grains;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, MtProtoConnection> _connections = new();
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly long _connectionIdPrefix;
    private long _connectionCounter;
    private int _openConnections;
    private int _handshakesInFlight;
    private int _rejecting;
    private IConnectionListener? _listener;
    private Task? _acceptLoop;
    private ServerRsaKeys? _keys;

    public MtProtoGateway(IOptions<MtProtoGatewayOptions> options, IGrainFactory grains, ILoggerFactory loggerFactory,
        TimeProvider? time = null)
    {
        _options = options.Value;
        _options.Validate();
        _grains = grains;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<MtProtoGateway>();
        Time = time ?? TimeProvider.System;
        Span<byte> prefix = stackalloc byte[4];
        RandomNumberGenerator.Fill(prefix);
        // Silo-unique prefix (random per start) in the high 32 bits, a counter in the low 32 bits (contract: ConnectionId).
        _connectionIdPrefix = (long)(BitConverter.ToUInt32(prefix) | 1u) << 32;
        HandshakeOptions = _options.ToHandshakeOptions();
        HandshakeOptions.Validate();
        TransportOptions = _options.ToTransportOptions();
        TransportOptions.Validate();
        Handler = new MtProtoConnectionHandler(this);
    }

    /// <summary>The options in force.</summary>
    public MtProtoGatewayOptions Options => _options;

    /// <summary>The endpoint actually bound (the real port when <see cref="MtProtoGatewayOptions.Port"/> is 0); null before start.</summary>
    public IPEndPoint? EndPoint { get; private set; }

    /// <summary>The RSA keys served (null before start).</summary>
    public ServerRsaKeys? RsaKeys => _keys;

    /// <summary>Connections being served now (refused ones not counted).</summary>
    public int OpenConnections => Volatile.Read(ref _openConnections);

    /// <summary>Key exchanges in progress now.</summary>
    public int HandshakesInFlight => Volatile.Read(ref _handshakesInFlight);

    /// <summary>The connection handler (usable with Kestrel's <c>ListenOptions.UseConnectionHandler</c> too).</summary>
    public MtProtoConnectionHandler Handler { get; }

    internal IGrainFactory Grains => _grains;

    internal TimeProvider Time { get; }

    internal ILogger Logger => _logger;

    internal RsaKeySet KeySet => (_keys ?? throw new InvalidOperationException("The MTProto gateway has not started.")).KeySet;

    internal ServerHandshakeOptions HandshakeOptions { get; }

    internal TransportOptions TransportOptions { get; }

    void ILifecycleParticipant<ISiloLifecycle>.Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(MtProtoGateway), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>Loads the RSA keys and opens the port. Called by the silo lifecycle (stage Active).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled || _listener is not null)
        {
            return;
        }

        _keys = ServerRsaKeys.Load(_options.RsaKeyFiles, _options.KeyDirectory, _loggerFactory.CreateLogger<ServerRsaKeys>());
        var transport = new SocketTransportFactory(
            Microsoft.Extensions.Options.Options.Create(new SocketTransportOptions
            {
                // The read buffer must hold one whole frame (the pipe pauses reading beyond it).
                MaxReadBufferSize = _options.MaxFrameSize + 64 * 1024,
                NoDelay = true,
            }),
            _loggerFactory);
        var endPoint = new IPEndPoint(_options.ListenAddress, _options.Port);
        try
        {
            _listener = await transport.BindAsync(endPoint, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _keys.Dispose();
            _keys = null;
            throw new InvalidOperationException(
                $"The MTProto gateway cannot listen on {endPoint} ({ex.Message}); set {MtProtoGatewayOptions.SectionName}:Port " +
                "or :Address, or turn it off with :Enabled=false.", ex);
        }

        EndPoint = _listener.EndPoint as IPEndPoint ?? endPoint;
        _logger.Listening(EndPoint, _options.DcId,
            string.Join(", ", _keys.Keys.Select(k => k.FingerprintHex)));
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
    }

    /// <summary>Closes the port and every connection (bounded by the shutdown timeout). Called by the silo lifecycle.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var listener = Interlocked.Exchange(ref _listener, null);
        if (listener is null)
        {
            return;
        }

        await _stopping.CancelAsync();
        try
        {
            await listener.UnbindAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.AcceptFailed(ex);
        }

        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }

        var count = _connections.Count;
        foreach (var connection in _connections.Values)
        {
            connection.Close("silo stopping");
        }

        var all = Task.WhenAll(_running.Keys);
        var timeout = TimeSpan.FromSeconds(_options.ShutdownTimeoutSeconds);
        if (await Task.WhenAny(all, Task.Delay(timeout, CancellationToken.None)) != all)
        {
            _logger.ShutdownAborting(_connections.Count, _options.ShutdownTimeoutSeconds);
            foreach (var connection in _connections.Values)
            {
                connection.Abort();
            }

            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        }

        await listener.DisposeAsync();
        _logger.Stopped(EndPoint, count);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _keys?.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        while (!_stopping.IsCancellationRequested)
        {
            ConnectionContext? connection;
            try
            {
                connection = await listener.AcceptAsync(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    break;
                }

                _logger.AcceptFailed(ex);
                await Task.Delay(100, CancellationToken.None);
                continue;
            }

            if (connection is null)
            {
                break; // unbound
            }

            Track(ServeAsync(connection));
        }
    }

    private void Track(Task task)
    {
        _running.TryAdd(task, 0);
        _ = task.ContinueWith(t => _running.TryRemove(t, out _), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task ServeAsync(ConnectionContext connection)
    {
        await Task.Yield(); // off the accept loop
        try
        {
            await Handler.OnConnectedAsync(connection);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.ConnectionFailed(ex, 0);
        }
        finally
        {
            try
            {
                await connection.DisposeAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.ConnectionFailed(ex, 0);
            }
        }
    }

    internal long NextConnectionId() => _connectionIdPrefix | (uint)Interlocked.Increment(ref _connectionCounter);

    internal bool TryOpenConnection()
    {
        if (Interlocked.Increment(ref _openConnections) <= _options.MaxConnections)
        {
            return true;
        }

        Interlocked.Decrement(ref _openConnections);
        return false;
    }

    internal void ConnectionEnded() => Interlocked.Decrement(ref _openConnections);

    /// <summary>At most this many refused connections are answered -429 at once; more are dropped without an answer.</summary>
    internal bool TryStartRejecting()
    {
        if (Interlocked.Increment(ref _rejecting) <= 1000)
        {
            return true;
        }

        Interlocked.Decrement(ref _rejecting);
        return false;
    }

    internal void RejectingEnded() => Interlocked.Decrement(ref _rejecting);

    internal bool TryEnterHandshake()
    {
        if (Interlocked.Increment(ref _handshakesInFlight) <= _options.MaxHandshakesInFlight)
        {
            return true;
        }

        Interlocked.Decrement(ref _handshakesInFlight);
        return false;
    }

    internal void ExitHandshake() => Interlocked.Decrement(ref _handshakesInFlight);

    internal void Register(MtProtoConnection connection) => _connections[connection.Id] = connection;

    internal void Unregister(MtProtoConnection connection) => _connections.TryRemove(connection.Id, out _);

    internal ServerHandshake NewHandshake() => new(KeySet, HandshakeOptions, Time);
}
