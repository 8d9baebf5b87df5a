using MtActors.Protocol.Crypto;

namespace MtActors.Protocol.Client.Handshake;

/// <summary>Why a client-side key exchange stopped.</summary>
public enum ClientHandshakeError
{
    None = 0,
    /// <summary>A server message did not parse (or had trailing bytes).</summary>
    Malformed,
    /// <summary>A server message of another type than the step expects.</summary>
    UnexpectedMessage,
    /// <summary>nonce or server_nonce differ from this exchange's.</summary>
    NonceMismatch,
    /// <summary>None of the server's fingerprints belongs to a key we trust.</summary>
    NoKnownFingerprint,
    /// <summary>pq is not a product of two factors greater than 1 (or is larger than 2^63 - 1).</summary>
    BadPq,
    /// <summary>server_DH_params_fail (with a valid new_nonce_hash).</summary>
    ServerDhParamsFail,
    /// <summary>encrypted_answer: wrong length, SHA1 mismatch, or too much padding.</summary>
    BadAnswer,
    /// <summary>dh_prime is not the known safe prime.</summary>
    UnknownDhPrime,
    /// <summary>g is not a generator of the quadratic residues for this prime.</summary>
    BadGenerator,
    /// <summary>g_a outside (2^1984, p - 2^1984).</summary>
    GaOutOfRange,
    /// <summary>dh_gen_*: new_nonce_hashN does not match our key.</summary>
    NewNonceHashMismatch,
    /// <summary>dh_gen_fail.</summary>
    DhGenFail,
    /// <summary>More dh_gen_retry answers than <see cref="ClientHandshakeOptions.MaxRetries"/>.</summary>
    TooManyRetries,
    /// <summary>The exchange has already finished or failed.</summary>
    Finished,
}

/// <summary>What the caller does after <see cref="ClientHandshake.Handle"/>.</summary>
public abstract record ClientHandshakeStep
{
    private ClientHandshakeStep()
    {
    }

    /// <summary>Send <paramref name="Body"/> in an unencrypted message and wait for the answer.</summary>
    public sealed record Send(byte[] Body) : ClientHandshakeStep;

    /// <summary>The key exists on the server (dh_gen_ok).</summary>
    public sealed record Completed(ClientAuthKey Key) : ClientHandshakeStep;

    /// <summary>The exchange failed; start a new one (on a new connection if the server sent -404).</summary>
    public sealed record Failed(ClientHandshakeError Error, string Message) : ClientHandshakeStep;
}

/// <summary>A key created by the client-side exchange, with what a session needs to start.</summary>
/// <param name="Key">The 256-byte auth key (left-padded: a key whose top byte is zero stays 256 bytes).</param>
/// <param name="InitialSalt">new_nonce[0..8) XOR server_nonce[0..8).</param>
/// <param name="ServerTimeOffset">server_time minus the local clock when the server's DH answer arrived.</param>
/// <param name="ExpiresIn">Seconds asked for a temporary key, 0 for a permanent one.</param>
/// <param name="Retries">dh_gen_retry answers followed.</param>
public sealed record ClientAuthKey(AuthKey Key, long InitialSalt, TimeSpan ServerTimeOffset, int ExpiresIn, int Retries, DateTimeOffset CreatedAt)
{
    public long AuthKeyId => Key.Id;
    public bool IsTemporary => ExpiresIn > 0;

    public override string ToString() => $"auth key {AuthKeyId:x16}{(IsTemporary ? $" (temporary, {ExpiresIn} s)" : "")}";
}
