namespace MtActors.Protocol.Handshake;

/// <summary>Rules and limits of the server side of auth-key creation.</summary>
public sealed record ServerHandshakeOptions
{
    /// <summary>
    /// This server's DC id as clients name it in p_q_inner_data_dc / _temp_dc (test servers: +10000; media DCs
    /// use the negative id, which is accepted too). Default 1.
    /// </summary>
    public int DcId { get; init; } = 1;

    /// <summary>
    /// Refuse with -444 a p_q_inner_data that names another DC (e.g. a production client on a test server).
    /// Default on. Variants without a dc field are always accepted.
    /// </summary>
    public bool EnforceDcId { get; init; } = true;

    /// <summary>
    /// Answer dh_gen_retry (so the client draws a new b) when the agreed key's first byte is zero, i.e.
    /// g^ab &lt; 2^2040. GramJS, mtcute and a Python client store the key as minimal big-endian bytes, so for
    /// such a key (about 1 in 256 handshakes) they would hold 255 bytes and compute a different auth_key_id
    /// than the server (real-clients.md §5 item 1). mtcute retries as asked; GramJS drops the connection and
    /// reconnects, which also ends well. Default on; turn it off only for strictly conforming clients.
    /// </summary>
    public bool RetryOnShortKey { get; init; } = true;

    /// <summary>dh_gen_retry rounds allowed per handshake (short keys and taken ids together); past it, dh_gen_fail.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>Distinct handshakes (nonces) allowed on one connection.</summary>
    public int MaxHandshakesPerConnection { get; init; } = 4;

    /// <summary>Handshake messages allowed on one connection (repeats included).</summary>
    public int MaxMessagesPerConnection { get; init; } = 32;

    /// <summary>Longest lifetime a temporary key may ask for, in seconds (default one year; tdlib asks for a day).</summary>
    public int MaxTemporaryKeyLifetime { get; init; } = 365 * 24 * 3600;

    /// <summary>Throws <see cref="ArgumentException"/> for values that make no sense (called by <see cref="ServerHandshake"/>).</summary>
    public void Validate()
    {
        if (DcId == 0) throw new ArgumentException("DcId must not be 0.", nameof(DcId));
        if (MaxRetries < 0) throw new ArgumentException("MaxRetries must be >= 0.", nameof(MaxRetries));
        if (MaxHandshakesPerConnection < 1) throw new ArgumentException("MaxHandshakesPerConnection must be >= 1.", nameof(MaxHandshakesPerConnection));
        if (MaxMessagesPerConnection < 3) throw new ArgumentException("MaxMessagesPerConnection must be >= 3.", nameof(MaxMessagesPerConnection));
        if (MaxTemporaryKeyLifetime < 1) throw new ArgumentException("MaxTemporaryKeyLifetime must be >= 1 s.", nameof(MaxTemporaryKeyLifetime));
    }
}
