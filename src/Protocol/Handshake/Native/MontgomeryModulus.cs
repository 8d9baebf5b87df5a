namespace MtActors.Protocol.Handshake.Native;

/// <summary>
/// An odd modulus with its cached OpenSSL Montgomery context: modular exponentiation at OpenSSL speed.
/// Thread-safe (the context is read-only after construction; every call uses its own BN_CTX).
/// </summary>
internal sealed unsafe class MontgomeryModulus : IDisposable
{
    private readonly SafeBigNumHandle _modulus;
    private readonly SafeBnMontCtxHandle _mont;

    /// <param name="modulusBigEndian">The modulus, unsigned big-endian (leading zeros allowed); must be odd and &gt; 1.</param>
    public MontgomeryModulus(ReadOnlySpan<byte> modulusBigEndian)
    {
        int start = 0;
        while (start < modulusBigEndian.Length && modulusBigEndian[start] == 0) start++;
        var minimal = modulusBigEndian[start..];
        if (minimal.Length == 0 || (minimal[^1] & 1) == 0 || (minimal.Length == 1 && minimal[0] == 1))
        {
            throw new ArgumentException("A Montgomery modulus must be odd and greater than 1.", nameof(modulusBigEndian));
        }
        _modulus = SafeBigNumHandle.FromBigEndian(minimal);
        try
        {
            _mont = SafeBnMontCtxHandle.Create(_modulus);
        }
        catch
        {
            _modulus.Dispose();
            throw;
        }
        ByteLength = minimal.Length;
        BitLength = _modulus.BitLength;
    }

    /// <summary>Size of the modulus in bytes (minimal big-endian length).</summary>
    public int ByteLength { get; }

    public int BitLength { get; }

    internal SafeBigNumHandle Modulus => _modulus;

    internal SafeBnMontCtxHandle Mont => _mont;

    /// <summary>
    /// result = base^exponent mod m as exactly <see cref="ByteLength"/> big-endian bytes (left-padded).
    /// With <paramref name="secretExponent"/> the constant-time OpenSSL routine is used
    /// (BN_mod_exp_mont_consttime) and the exponent's native copy is wiped afterwards.
    /// </summary>
    public void ModPow(ReadOnlySpan<byte> baseBigEndian, ReadOnlySpan<byte> exponentBigEndian, Span<byte> result, bool secretExponent)
    {
        if (result.Length != ByteLength) throw new ArgumentException($"The result must be {ByteLength} bytes.", nameof(result));
        using var lease1 = new HandleLease(_modulus);
        using var lease2 = new HandleLease(_mont);
        using var ctx = SafeBnCtxHandle.New();
        using var b = SafeBigNumHandle.FromBigEndian(baseBigEndian);
        using var e = SafeBigNumHandle.FromBigEndian(exponentBigEndian);
        using var r = SafeBigNumHandle.New();
        if (secretExponent) e.SetConstantTime();
        ModPow(r, b, e, ctx, secretExponent);
        r.WriteBigEndian(result);
    }

    /// <summary>r = b^e mod m on native values (caller leases this instance).</summary>
    internal void ModPow(SafeBigNumHandle r, SafeBigNumHandle b, SafeBigNumHandle e, SafeBnCtxHandle ctx, bool secretExponent)
    {
        // Both OpenSSL routines reduce a base >= m themselves; the consttime one also needs no flag on e.
        int ok = secretExponent
            ? LibCrypto.BN_mod_exp_mont_consttime(r.Ptr, b.Ptr, e.Ptr, _modulus.Ptr, ctx.Ptr, _mont.Ptr)
            : LibCrypto.BN_mod_exp_mont(r.Ptr, b.Ptr, e.Ptr, _modulus.Ptr, ctx.Ptr, _mont.Ptr);
        if (ok == 0) throw SafeBigNumHandle.Failed(secretExponent ? "BN_mod_exp_mont_consttime" : "BN_mod_exp_mont");
    }

    public void Dispose()
    {
        _mont.Dispose();
        _modulus.Dispose();
    }
}
