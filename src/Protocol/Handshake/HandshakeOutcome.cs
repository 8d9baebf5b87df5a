using System.Security.Cryptography;

namespace MtActors.Protocol.Handshake;

/// <summary>What the gateway does with one handshake message (see <see cref="ServerHandshake.Handle"/>).</summary>
public abstract record HandshakeOutcome
{
    private HandshakeOutcome()
    {
    }

    /// <summary>Send <paramref name="Body"/> as the body of an unencrypted message (with a fresh server msg_id).</summary>
    public sealed record Reply(byte[] Body) : HandshakeOutcome;

    /// <summary>
    /// Send the 4-byte transport error <paramref name="TransportError"/> (-404, or -444 for a DC mismatch).
    /// Later messages of the same handshake keep failing.
    /// </summary>
    public sealed record Fail(int TransportError, HandshakeError Error) : HandshakeOutcome;

    /// <summary>
    /// A key was agreed. The caller registers it (the AuthKeyGrain decides whether its id is free), then calls
    /// <see cref="ServerHandshake.AcceptKey"/> (sends <paramref name="OkReply"/>) or
    /// <see cref="ServerHandshake.RejectKey"/> (sends <paramref name="RetryReply"/>, which is dh_gen_fail when no
    /// retry is left; see <paramref name="CanRetry"/>).
    /// </summary>
    public sealed record KeyReady(NewAuthKey Key, byte[] OkReply, byte[] RetryReply, bool CanRetry) : HandshakeOutcome;

    public const int TransportErrorNotFound = -404;
    public const int TransportErrorInvalidDc = -444;
}

/// <summary>A freshly agreed auth key and what the server must store with it.</summary>
public sealed class NewAuthKey
{
    internal NewAuthKey(byte[] key, long authKeyId, long auxHash, long initialSalt, bool isTemporary, int expiresIn,
        int? dcId, PqInnerDataKind innerDataKind, RsaScheme rsaScheme, DateTimeOffset createdAt)
    {
        Key = key;
        AuthKeyId = authKeyId;
        AuxHash = auxHash;
        InitialSalt = initialSalt;
        IsTemporary = isTemporary;
        ExpiresIn = expiresIn;
        DcId = dcId;
        InnerDataKind = innerDataKind;
        RsaScheme = rsaScheme;
        CreatedAt = createdAt;
    }

    /// <summary>The 256-byte auth key (g^ab mod p, left-padded). Secret: never log it.</summary>
    public byte[] Key { get; }

    /// <summary>SHA1(auth_key)[12..20) as little-endian int64 — the id that prefixes every encrypted frame.</summary>
    public long AuthKeyId { get; }

    /// <summary>SHA1(auth_key)[0..8) as little-endian int64 (retry_id after a dh_gen_retry).</summary>
    public long AuxHash { get; }

    /// <summary>new_nonce[0..8) XOR server_nonce[0..8): the first server salt.</summary>
    public long InitialSalt { get; }

    /// <summary>True for p_q_inner_data_temp*: a temporary (PFS) key, kept at most <see cref="ExpiresIn"/> seconds.</summary>
    public bool IsTemporary { get; }

    /// <summary>Lifetime in seconds asked for by a temporary key; 0 for a permanent key.</summary>
    public int ExpiresIn { get; }

    /// <summary>The dc the client named in p_q_inner_data_dc / _temp_dc (null for the variants without it).</summary>
    public int? DcId { get; }

    public PqInnerDataKind InnerDataKind { get; }

    public RsaScheme RsaScheme { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>Expiry of a temporary key (null for a permanent one).</summary>
    public DateTimeOffset? ExpiresAt => IsTemporary ? CreatedAt.AddSeconds(ExpiresIn) : null;

    /// <summary>The key as the session layer's <see cref="MtActors.Protocol.Crypto.AuthKey"/> (a copy of the bytes).</summary>
    public MtActors.Protocol.Crypto.AuthKey ToAuthKey() => new(Key);

    /// <summary>Wipes <see cref="Key"/> (call when the caller has copied it where it belongs).</summary>
    public void Wipe() => CryptographicOperations.ZeroMemory(Key);

    public override string ToString() =>
        $"auth key 0x{(ulong)AuthKeyId:x16} ({(IsTemporary ? $"temporary, {ExpiresIn} s" : "permanent")}, {InnerDataKind}, {RsaScheme})";
}
