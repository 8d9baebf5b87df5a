using System.Collections.Immutable;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MtActors.Grains.AuthKeys;
using MtActors.Protocol.Crypto;

namespace MtActors.Grains;

/// <summary>
/// One auth key. State: <see cref="AuthKeyState"/> under state name "authkey", written once by
/// <see cref="Register"/> and deleted by <see cref="DestroyAuthKey"/> or expiry. The key's sessions are not in
/// it: they are found by their own rows (<see cref="ISessionDirectory"/>), and a new session asks
/// <see cref="OpenSession"/> to confirm its first row (docs/persistence.md, "Finding a key's sessions").
/// <see cref="OpenSession"/> interleaves with the other calls: sessions call it, possibly while this grain waits
/// for those very sessions in <see cref="DestroyAuthKey"/>. Writes are serialised by <see cref="_writeGate"/>.
/// </summary>
public sealed partial class AuthKeyGrain : Grain, IAuthKeyGrain
{
    private readonly IPersistentState<AuthKeyState> _state;
    private readonly TimeProvider _clock;
    private readonly ILogger<AuthKeyGrain> _logger;
    private readonly ISessionDirectory _sessions;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private long _authKeyId;
    private bool _exists;
    private bool _destroying;

    public AuthKeyGrain(
        [PersistentState(GrainServices.AuthKeyStateName, GrainServices.AuthKeyStorage)] IPersistentState<AuthKeyState> state,
        [FromKeyedServices(GrainServices.ClockKey)] TimeProvider clock,
        ISessionDirectory sessions,
        ILogger<AuthKeyGrain> logger)
    {
        _sessions = sessions;
        _state = state;
        _clock = clock;
        _logger = logger;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _authKeyId = this.GetPrimaryKeyLong();
        _exists = _state.RecordExists;
        Observability.MtActorsMetrics.AuthKeyActivated();
        return Task.CompletedTask;
    }

    public async Task<AuthKeyRegisterResult> Register(AuthKeyRegistration registration)
    {
        DateTimeOffset now = _clock.GetUtcNow();
        if (registration.Key is not { Length: AuthKey.Length } key || AuthKey.ComputeId(key) != _authKeyId
            || (registration.Kind == AuthKeyKind.Temporary && (registration.ExpiresAt is not { } expiry || expiry <= now)))
        {
            LogRegisterInvalid(_authKeyId);
            return AuthKeyRegisterResult.Invalid;
        }
        await EraseIfExpiredAsync();
        if (_exists)
        {
            return CryptographicOperations.FixedTimeEquals(_state.State.Key, key)
                ? AuthKeyRegisterResult.AlreadyRegistered
                : AuthKeyRegisterResult.Conflict;
        }

        var state = new AuthKeyState
        {
            Key = [.. key],
            Kind = registration.Kind,
            CreatedAt = now,
            ExpiresAt = registration.Kind == AuthKeyKind.Temporary ? registration.ExpiresAt : null,
            InitialSalt = registration.InitialSalt,
            SaltSeed = RandomNumberGenerator.GetBytes(32),
        };
        _state.State = state;
        await WriteAsync();
        _exists = true;
        LogRegistered(_authKeyId, registration.Kind);
        GrainMetrics.AuthKey("registered");
        return AuthKeyRegisterResult.Registered;
    }

    public async Task<AuthKeyInfo?> Get()
    {
        await EraseIfExpiredAsync();
        if (!_exists) return null;
        AuthKeyState s = _state.State;
        return new AuthKeyInfo(_authKeyId, s.Key, s.Kind, s.CreatedAt, s.ExpiresAt);
    }

    public async Task<ImmutableArray<long>> GetSessionIds()
    {
        await EraseIfExpiredAsync();
        return _exists ? [.. await _sessions.ListAsync(_authKeyId)] : [];
    }

    public async Task<DestroyAuthKeyResult> DestroyAuthKey()
    {
        if (!_exists || _destroying) return DestroyAuthKeyResult.None;
        _destroying = true; // from here on OpenSession answers "no such key"
        try
        {
            await DestroySessionsAndEraseAsync();
            LogDestroyed(_authKeyId);
            GrainMetrics.AuthKey("destroyed");
            return DestroyAuthKeyResult.Ok;
        }
        catch (Exception ex)
        {
            LogDestroyFailed(ex, _authKeyId);
            return DestroyAuthKeyResult.Fail;
        }
        finally
        {
            _destroying = false;
        }
    }

    public Task<AuthKeySessionBinding?> OpenSession(long sessionId, bool created)
    {
        // No erasing here (the caller may be one of the sessions erasing would wait for): an expired
        // key just answers "none"; Get / GetSessionIds / Register erase it. Nothing is written either way.
        if (!_exists || _destroying || IsExpired) return Task.FromResult<AuthKeySessionBinding?>(null);
        AuthKeyState s = _state.State;
        return Task.FromResult<AuthKeySessionBinding?>(new AuthKeySessionBinding(s.SaltSeed, s.InitialSalt, s.CreatedAt, s.ExpiresAt));
    }

    private bool IsExpired => _exists && _state.State.ExpiresAt is { } expiry && expiry <= _clock.GetUtcNow();

    private async Task EraseIfExpiredAsync()
    {
        if (!_destroying && IsExpired)
        {
            LogExpired(_authKeyId);
            GrainMetrics.AuthKey("expired");
            _destroying = true;
            try
            {
                await DestroySessionsAndEraseAsync();
            }
            finally
            {
                _destroying = false;
            }
        }
    }

    /// <summary>
    /// With <see cref="_destroying"/> already set, so that <see cref="OpenSession"/> confirms no new session from
    /// here on: every session confirmed before wrote its row before, so the listing below finds it. Sessions named
    /// by the set older versions stored in the key row are destroyed too (a "none" for those already gone).
    /// </summary>
    private async Task DestroySessionsAndEraseAsync()
    {
        long[] stored = await _sessions.ListAsync(_authKeyId);
        foreach (long sessionId in stored.Union(_state.State.Sessions))
        {
            await GrainFactory.GetSessionGrain(_authKeyId, sessionId).Destroy();
        }
        await EraseAsync();
    }

    private async Task EraseAsync()
    {
        await _writeGate.WaitAsync();
        try
        {
            await _state.ClearStateAsync(); // DeleteStateOnClear: the row is deleted
            _exists = false;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task WriteAsync()
    {
        await _writeGate.WaitAsync();
        try
        {
            await _state.WriteStateAsync();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Auth key {AuthKeyId} registered ({Kind})")]
    private partial void LogRegistered(long authKeyId, AuthKeyKind kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Auth key {AuthKeyId}: registration refused (length, id or expiry invalid)")]
    private partial void LogRegisterInvalid(long authKeyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Auth key {AuthKeyId} destroyed with its sessions")]
    private partial void LogDestroyed(long authKeyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Auth key {AuthKeyId} expired: erased with its sessions")]
    private partial void LogExpired(long authKeyId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Auth key {AuthKeyId}: destroy_auth_key failed")]
    private partial void LogDestroyFailed(Exception ex, long authKeyId);
}
