using MtActors.Protocol.Handshake;

namespace MtActors.Protocol.Client.Handshake;

/// <summary>What a client asks for in auth-key creation. Validate with <see cref="Validate"/> (the handshake does).</summary>
public sealed class ClientHandshakeOptions
{
    /// <summary>The server's RSA public keys the client trusts (at least one); the first one the server also lists is used.</summary>
    public IReadOnlyList<RsaPublicKey> ServerKeys { get; set; } = [];

    /// <summary>DC id written into p_q_inner_data_dc / _temp_dc (default 2; test servers add 10000, media DCs negate).</summary>
    public int DcId { get; set; } = 2;

    /// <summary>Which p_q_inner_data variant to send (default <see cref="PqInnerDataKind.Dc"/>).</summary>
    public PqInnerDataKind InnerData { get; set; } = PqInnerDataKind.Dc;

    /// <summary>Lifetime in seconds asked for a temporary key (the _temp variants); ignored otherwise.</summary>
    public int ExpiresIn { get; set; } = 86400;

    /// <summary>Send req_pq_multi (default) rather than the legacy req_pq.</summary>
    public bool UseReqPqMulti { get; set; } = true;

    /// <summary>How many dh_gen_retry answers are followed before giving up (default 5).</summary>
    public int MaxRetries { get; set; } = 5;

    public bool IsTemporary => InnerData is PqInnerDataKind.Temp or PqInnerDataKind.TempDc;

    public void Validate()
    {
        if (ServerKeys is null || ServerKeys.Count == 0) throw new ArgumentException("At least one server RSA public key is needed.", nameof(ServerKeys));
        if (InnerData is PqInnerDataKind.Dc or PqInnerDataKind.TempDc && (DcId == 0 || Math.Abs((long)DcId) > short.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(DcId), DcId, "The DC id must be non-zero and fit in 16 bits.");
        }
        if (IsTemporary && ExpiresIn <= 0) throw new ArgumentOutOfRangeException(nameof(ExpiresIn), ExpiresIn, "A temporary key needs a positive lifetime.");
        if (MaxRetries is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "Must be 0..100.");
        if (!Enum.IsDefined(InnerData)) throw new ArgumentOutOfRangeException(nameof(InnerData));
    }
}
