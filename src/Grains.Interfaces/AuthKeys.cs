using System.Collections.Immutable;
using Orleans.Concurrency;

namespace MtActors.Grains;

/// <summary>
/// One MTProto auth key (grain key: auth_key_id, the low 64 bits of SHA1(auth_key), as a long).
/// Holds the 256-byte key material, its kind and expiry and the seed its server salts are derived from; its
/// sessions are found by their own stored rows.
/// </summary>
public interface IAuthKeyGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Stores the key once. Registering the same bytes again is accepted (idempotent); a different key
    /// under the same id, a key that is not 256 bytes or whose SHA1 does not give this grain's id is refused.
    /// Durable when the call returns <see cref="AuthKeyRegisterResult.Registered"/>.
    /// </summary>
    Task<AuthKeyRegisterResult> Register(AuthKeyRegistration registration);

    /// <summary>The key material, or null when the key is unknown, destroyed or expired.</summary>
    Task<AuthKeyInfo?> Get();

    /// <summary>Ids of the key's stored sessions (created and not destroyed since), ascending.</summary>
    Task<ImmutableArray<long>> GetSessionIds();

    /// <summary>
    /// destroy_auth_key: destroys every session of the key, then erases the key (its row is deleted).
    /// </summary>
    Task<DestroyAuthKeyResult> DestroyAuthKey();

    /// <summary>
    /// Called by a <see cref="ISessionGrain"/> of this key: null when the key does not exist (any more), is expired or
    /// is being destroyed; otherwise what the session needs (salt seed). Writes nothing. A new session calls it with
    /// <paramref name="created"/> after its first row is written: null then tells it to delete that row again
    /// (destroy_auth_key may have listed the key's sessions before the row existed). Interleaves: sessions call it
    /// while the key may be waiting for them in <see cref="DestroyAuthKey"/>.
    /// </summary>
    [AlwaysInterleave]
    Task<AuthKeySessionBinding?> OpenSession(long sessionId, bool created);
}

/// <summary>Permanent keys live until destroy_auth_key; temporary ones (PFS) also end at their expiry.</summary>
[GenerateSerializer, Alias("mtactors.AuthKeyKind")]
public enum AuthKeyKind
{
    Permanent = 0,
    Temporary = 1,
}

/// <summary>What the handshake hands to <see cref="IAuthKeyGrain.Register"/>.</summary>
/// <param name="Key">The 256-byte auth_key (big-endian bytes of g_ab, left-padded to 256).</param>
/// <param name="Kind">Permanent or temporary.</param>
/// <param name="ExpiresAt">For temporary keys: when the key stops being valid.</param>
/// <param name="InitialSalt">new_nonce[0..8) XOR server_nonce[0..8): accepted during the key's first 30 minutes (+ grace).</param>
[GenerateSerializer, Immutable, Alias("mtactors.AuthKeyRegistration")]
public sealed record AuthKeyRegistration(byte[] Key, AuthKeyKind Kind, DateTimeOffset? ExpiresAt, long? InitialSalt);

[GenerateSerializer, Alias("mtactors.AuthKeyRegisterResult")]
public enum AuthKeyRegisterResult
{
    /// <summary>Stored now.</summary>
    Registered = 0,
    /// <summary>The same key was already stored; nothing changed.</summary>
    AlreadyRegistered = 1,
    /// <summary>A different key is stored under this id (the handshake answers dh_gen_retry).</summary>
    Conflict = 2,
    /// <summary>Not 256 bytes, its SHA1 does not give this id, or a temporary key without a future expiry.</summary>
    Invalid = 3,
}

/// <summary>The stored key.</summary>
[GenerateSerializer, Immutable, Alias("mtactors.AuthKeyInfo")]
public sealed record AuthKeyInfo(long AuthKeyId, byte[] Key, AuthKeyKind Kind, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>What a session grain needs from its auth key.</summary>
/// <param name="SaltSeed">Secret 32 bytes the key's server salts are derived from (see docs/persistence.md).</param>
[GenerateSerializer, Immutable, Alias("mtactors.AuthKeySessionBinding")]
public sealed record AuthKeySessionBinding(byte[] SaltSeed, long? InitialSalt, DateTimeOffset KeyCreatedAt, DateTimeOffset? ExpiresAt);

[GenerateSerializer, Alias("mtactors.DestroyAuthKeyResult")]
public enum DestroyAuthKeyResult
{
    /// <summary>destroy_auth_key_none: no such key.</summary>
    None = 0,
    /// <summary>destroy_auth_key_ok: the key and its sessions are gone.</summary>
    Ok = 1,
    /// <summary>destroy_auth_key_fail: could not (storage error); nothing was erased that matters, retry.</summary>
    Fail = 2,
}
