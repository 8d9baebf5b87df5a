namespace MtActors.Grains.AuthKeys;

/// <summary>The persisted form of an auth key (one row, state name "authkey").</summary>
[GenerateSerializer, Alias("mtactors.AuthKeyState")]
public sealed class AuthKeyState
{
    /// <summary>The 256-byte auth_key.</summary>
    [Id(0)] public byte[] Key { get; set; } = [];
    [Id(1)] public AuthKeyKind Kind { get; set; }
    [Id(2)] public DateTimeOffset CreatedAt { get; set; }
    [Id(3)] public DateTimeOffset? ExpiresAt { get; set; }
    /// <summary>new_nonce[0..8) XOR server_nonce[0..8) from the handshake, if given.</summary>
    [Id(4)] public long? InitialSalt { get; set; }
    /// <summary>Random 32 bytes the key's server salts are derived from (see SaltSchedule).</summary>
    [Id(5)] public byte[] SaltSeed { get; set; } = [];
    /// <summary>
    /// Written by versions before the sessions were found by their own rows: the ids of the key's sessions then.
    /// No longer written (empty in new rows); still read, so that destroy_auth_key of an old row also destroys
    /// every session named there. Never reuse [Id(6)].
    /// </summary>
    [Id(6)] public long[] Sessions { get; set; } = [];
}
