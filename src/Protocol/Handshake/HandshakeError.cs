namespace MtActors.Protocol.Handshake;

/// <summary>Why a handshake message was refused. Every one of these reaches the client as transport error
/// -404, except <see cref="DcMismatch"/> (-444).</summary>
public enum HandshakeError
{
    None = 0,

    // Framing and TL
    /// <summary>An unencrypted frame shorter than its 20-byte header or its declared length.</summary>
    Truncated,
    /// <summary>auth_key_id is not 0: not an unencrypted message.</summary>
    NotUnencrypted,
    /// <summary>message_data_length negative, not a multiple of 4, or followed by more than 15 stray bytes.</summary>
    BadMessageLength,
    /// <summary>The TL body does not parse (see the TlError logged with it).</summary>
    Malformed,
    /// <summary>A constructor that is not a client-to-server handshake request.</summary>
    UnexpectedConstructor,

    // State
    /// <summary>req_DH_params / set_client_DH_params for a nonce this connection never saw in req_pq.</summary>
    UnknownNonce,
    /// <summary>server_nonce differs from the one we sent.</summary>
    WrongServerNonce,
    /// <summary>This handshake already failed; it keeps getting -404.</summary>
    HandshakeFailed,
    /// <summary>A request that does not fit the handshake's phase (and is not an exact repeat of an answered one).</summary>
    UnexpectedRequest,

    // req_DH_params
    /// <summary>p or q differ from the factors of the pq we sent.</summary>
    WrongPq,
    /// <summary>The fingerprint names none of our RSA keys.</summary>
    UnknownFingerprint,
    /// <summary>encrypted_data is empty, longer than 256 bytes, or not below the modulus.</summary>
    BadRsaCiphertext,
    /// <summary>Neither the RSA_PAD hash nor the legacy SHA1 check holds: wrong key or corrupted data.</summary>
    BadRsaPadding,
    /// <summary>The decrypted p_q_inner_data* does not parse.</summary>
    BadInnerData,
    /// <summary>nonce / server_nonce inside p_q_inner_data differ from the outer ones.</summary>
    InnerNonceMismatch,
    /// <summary>pq / p / q inside p_q_inner_data differ from ours.</summary>
    InnerPqMismatch,
    /// <summary>p_q_inner_data names another DC (test vs production) — answered with -444.</summary>
    DcMismatch,
    /// <summary>A temporary key's expires_in is not positive or longer than the options allow.</summary>
    BadExpiresIn,

    // set_client_DH_params
    /// <summary>encrypted_data is not a whole number of AES blocks or has an impossible size.</summary>
    BadEncryptedDataLength,
    /// <summary>The decrypted client_DH_inner_data does not parse or its padding is longer than 15 bytes.</summary>
    BadClientDhData,
    /// <summary>SHA1 of client_DH_inner_data differs from the hash in front of it (wrong tmp key or corruption).</summary>
    BadClientDhHash,
    /// <summary>retry_id is not 0 on a first attempt, or not the aux hash of the key we asked to retry.</summary>
    WrongRetryId,
    /// <summary>g_b outside (2^1984, dh_prime - 2^1984).</summary>
    GbOutOfRange,

    // Limits
    /// <summary>More distinct handshakes (nonces) on one connection than allowed.</summary>
    TooManyHandshakes,
    /// <summary>More handshake messages on one connection than allowed.</summary>
    TooManyMessages,
}
