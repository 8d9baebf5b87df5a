using System.Collections.Immutable;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MtActors.Grains.AuthKeys;
using MtActors.Protocol.Crypto;

namespace MtActors.Grains;

/// <summary>
/// One auth key. State: <see cref="AuthKeyState"/> under state name "authkey"; every change is written
/// before the call returns (changes are rare: registration, a session created or destroyed).
/// <see cref="OpenSession"/> and <see cref="SessionDestroyed"/> interleave with the other calls: they
/// are called by session grains, possibly while this grain waits for those very sessions in
/// <see cref="DestroyAuthKey"/>. Writes are serialised by <see cref="_writeGate"/>.
/// </summary>
public sealed partial class AuthKeyGrain : Grain, IAuthKeyGrain
{
    private readonly IPersistentState<AuthKeyState> _state;
    private readonly TimeProvider _clock;
    private readonly ILogger<AuthKeyGrain> _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private long _authKeyId;
    private bool _exists;
    private bool _destroying;

    public AuthKeyGrain(
        [PersistentState(GrainServices.AuthKeyStateName, GrainServices.AuthKeyStorage)] IPersistentState<AuthKeyState> state,
        [FromKeyedServices(GrainServices.ClockKey)] TimeProvider clock,
        ILogger<AuthKeyGrain> logger)
    {
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
            Sessions = [],
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
        return _exists ? [.. _state.State.Sessions] : [];
    }

    public async Task<DestroyAuthKeyResult> DestroyAuthKey()
    {
        if (!_exists || _destroying) return DestroyAuthKeyResult.None;
        _destroying = true; // from here on OpenSession answers "no such key"
        try
        {
            foreach (long sessionId in _state.State.Sessions.ToArray())
            {
                await GrainFactory.GetSessionGrain(_authKeyId, sessionId).Destroy();
            }
            await EraseAsync();
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

    public async Task<AuthKeySessionBinding?> OpenSession(long sessionId, bool create)
    {
        // No erasing here (the caller may be one of the sessions erasing would wait for): an expired
        // key just answers "none"; Get / GetSessionIds / Register erase it.
        if (!_exists || _destroying || IsExpired) return null;
        AuthKeyState s = _state.State;
        if (create && Array.BinarySearch(s.Sessions, sessionId) < 0)
        {
            await _writeGate.WaitAsync();
            try
            {
                if (!_exists || _destroying) return null;
                int index = Array.BinarySearch(_state.State.Sessions, sessionId);
                if (index < 0)
                {
                    _state.State.Sessions = [.. _state.State.Sessions[..~index], sessionId, .. _state.State.Sessions[~index..]];
                    await _state.WriteStateAsync();
                }
            }
            finally
            {
                _writeGate.Release();
            }
        }
        return new AuthKeySessionBinding(s.SaltSeed, s.InitialSalt, s.CreatedAt, s.ExpiresAt);
    }

    public async Task SessionDestroyed(long sessionId)
    {
        if (!_exists || _destroying) return; // DestroyAuthKey erases the whole row anyway
        await _writeGate.WaitAsync();
        try
        {
            if (!_exists || _destroying) return;
            long[] sessions = _state.State.Sessions;
            int index = Array.BinarySearch(sessions, sessionId);
            if (index < 0) return;
            _state.State.Sessions = [.. sessions[..index], .. sessions[(index + 1)..]];
            await _state.WriteStateAsync();
        }
        finally
        {
            _writeGate.Release();
        }
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
                foreach (long sessionId in _state.State.Sessions.ToArray())
                {
                    await GrainFactory.GetSessionGrain(_authKeyId, sessionId).Destroy();
                }
                await EraseAsync();
            }
            finally
            {
                _destroying = false;
            }
        }
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
