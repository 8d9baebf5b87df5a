using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace MtActors.Protocol.Handshake.Native;

/// <summary>An OpenSSL BIGNUM. Always released with BN_clear_free, so secrets never linger in freed memory.</summary>
internal sealed unsafe class SafeBigNumHandle : SafeHandle
{
    public SafeBigNumHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>The raw pointer. Only valid while this handle is alive (callers keep it in a using scope or lease it).</summary>
    internal nint Ptr => handle;

    protected override bool ReleaseHandle()
    {
        LibCrypto.BN_clear_free(handle);
        return true;
    }

    internal static SafeBigNumHandle New()
    {
        LibCrypto.Ensure();
        var h = new SafeBigNumHandle();
        nint p = LibCrypto.BN_new();
        if (p == 0) throw new OutOfMemoryException("OpenSSL BN_new failed.");
        h.SetHandle(p);
        return h;
    }

    /// <summary>A BIGNUM holding the unsigned big-endian number <paramref name="bigEndian"/> (any length, leading zeros allowed).</summary>
    internal static SafeBigNumHandle FromBigEndian(ReadOnlySpan<byte> bigEndian)
    {
        var h = New();
        h.Set(bigEndian);
        return h;
    }

    /// <summary>Replaces the value with the unsigned big-endian number <paramref name="bigEndian"/>.</summary>
    internal void Set(ReadOnlySpan<byte> bigEndian)
    {
        fixed (byte* p = bigEndian)
        {
            // BN_bin2bn with a non-null "ret" reuses (and overwrites) this BIGNUM.
            if (LibCrypto.BN_bin2bn(p, bigEndian.Length, handle) == 0) throw Failed("BN_bin2bn");
        }
    }

    /// <summary>Writes the value as exactly <paramref name="destination"/>.Length big-endian bytes, left-padded with zeros.</summary>
    internal void WriteBigEndian(Span<byte> destination)
    {
        fixed (byte* p = destination)
        {
            if (LibCrypto.BN_bn2binpad(handle, p, destination.Length) != destination.Length)
            {
                throw new CryptographicException($"OpenSSL value does not fit in {destination.Length} bytes.");
            }
        }
    }

    internal int BitLength => LibCrypto.BN_num_bits(handle);

    /// <summary>Marks the number as secret: OpenSSL then takes constant-time paths where it has them.</summary>
    internal void SetConstantTime() => LibCrypto.BN_set_flags(handle, LibCrypto.BN_FLG_CONSTTIME);

    internal static CryptographicException Failed(string function) => new($"OpenSSL {function} failed.");
}

/// <summary>An OpenSSL BN_CTX (scratch space for one operation on one thread).</summary>
internal sealed unsafe class SafeBnCtxHandle : SafeHandle
{
    public SafeBnCtxHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    internal nint Ptr => handle;

    protected override bool ReleaseHandle()
    {
        LibCrypto.BN_CTX_free(handle);
        return true;
    }

    internal static SafeBnCtxHandle New()
    {
        LibCrypto.Ensure();
        var h = new SafeBnCtxHandle();
        nint p = LibCrypto.BN_CTX_new();
        if (p == 0) throw new OutOfMemoryException("OpenSSL BN_CTX_new failed.");
        h.SetHandle(p);
        return h;
    }
}

/// <summary>An OpenSSL BN_MONT_CTX: the precomputed Montgomery form of one odd modulus. Read-only once set,
/// so one instance may serve concurrent exponentiations.</summary>
internal sealed unsafe class SafeBnMontCtxHandle : SafeHandle
{
    public SafeBnMontCtxHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    internal nint Ptr => handle;

    protected override bool ReleaseHandle()
    {
        LibCrypto.BN_MONT_CTX_free(handle);
        return true;
    }

    internal static SafeBnMontCtxHandle Create(SafeBigNumHandle modulus)
    {
        LibCrypto.Ensure();
        var h = new SafeBnMontCtxHandle();
        nint p = LibCrypto.BN_MONT_CTX_new();
        if (p == 0) throw new OutOfMemoryException("OpenSSL BN_MONT_CTX_new failed.");
        h.SetHandle(p);
        using var ctx = SafeBnCtxHandle.New();
        if (LibCrypto.BN_MONT_CTX_set(p, modulus.Ptr, ctx.Ptr) == 0)
        {
            h.Dispose();
            throw SafeBigNumHandle.Failed("BN_MONT_CTX_set");
        }
        return h;
    }
}

/// <summary>
/// Holds a reference on a long-lived <see cref="SafeHandle"/> for the length of one native call sequence,
/// so a concurrent Dispose cannot free it underneath (it is freed when the last lease ends).
/// </summary>
internal ref struct HandleLease
{
    private readonly SafeHandle _handle;
    private bool _added;

    public HandleLease(SafeHandle handle)
    {
        _handle = handle;
        _added = false;
        handle.DangerousAddRef(ref _added);
    }

    public void Dispose()
    {
        if (_added)
        {
            _added = false;
            _handle.DangerousRelease();
        }
    }
}
