using System.Runtime.InteropServices;

namespace MtActors.Protocol.Handshake.Native;

/// <summary>
/// The few BIGNUM functions of the machine's OpenSSL libcrypto that the handshake needs (2048-bit
/// modular exponentiation at OpenSSL speed, constant-time for secret exponents).
/// </summary>
/// <remarks>
/// Resolved at run time with <see cref="NativeLibrary.TryLoad(string, out nint)"/> over a list of
/// names, then bound as unmanaged function pointers (no DllImport resolver: that is one per
/// assembly and other code may want it). .NET itself needs OpenSSL on Linux, so libcrypto is always
/// there on a supported server. There is deliberately no <see cref="System.Numerics.BigInteger"/>
/// fallback: BigInteger.ModPow is about ten times slower and not constant-time for secret exponents,
/// so a silent fallback would be a performance and side-channel downgrade. Instead the first use
/// (or <see cref="NativeCrypto.EnsureAvailable"/> at start-up) throws a clear
/// <see cref="PlatformNotSupportedException"/>.
/// </remarks>
internal static unsafe class LibCrypto
{
    internal const int BN_FLG_CONSTTIME = 0x04;

    internal static readonly string[] LibraryNames =
        ["libcrypto.so.3", "libcrypto.so", "libcrypto.3.dylib", "libcrypto-3-x64.dll", "libcrypto-3.dll"];

    private static readonly object s_gate = new();
    private static volatile bool s_loaded;
    private static string? s_error;
    private static string? s_loadedName;

    internal static delegate* unmanaged<nint> BN_new;
    internal static delegate* unmanaged<nint, void> BN_clear_free;
    internal static delegate* unmanaged<byte*, int, nint, nint> BN_bin2bn;
    internal static delegate* unmanaged<nint, byte*, int, int> BN_bn2binpad;
    internal static delegate* unmanaged<nint, int> BN_num_bits;
    internal static delegate* unmanaged<nint, int, void> BN_set_flags;
    internal static delegate* unmanaged<nint, nint, int> BN_ucmp;
    internal static delegate* unmanaged<nint, nint, nint, int> BN_add;
    internal static delegate* unmanaged<nint, nint, nint, nint, int> BN_mul;
    internal static delegate* unmanaged<nint, nint, nint, nint, int> BN_nnmod;
    internal static delegate* unmanaged<nint, nint, nint, nint, nint, int> BN_mod_mul;
    internal static delegate* unmanaged<nint, nint, nint, nint, nint, int> BN_mod_sub;
    internal static delegate* unmanaged<nint, nint, nint, nint, nint> BN_mod_inverse;
    internal static delegate* unmanaged<nint, nint, nint, nint, nint, nint, int> BN_mod_exp_mont;
    internal static delegate* unmanaged<nint, nint, nint, nint, nint, nint, int> BN_mod_exp_mont_consttime;
    internal static delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, nint, nint, nint, nint, int> BN_mod_exp_mont_consttime_x2;
    internal static delegate* unmanaged<nint, nint, nint> BN_copy;
    internal static delegate* unmanaged<nint> BN_CTX_new;
    internal static delegate* unmanaged<nint, void> BN_CTX_free;
    internal static delegate* unmanaged<nint> BN_MONT_CTX_new;
    internal static delegate* unmanaged<nint, nint, nint, int> BN_MONT_CTX_set;
    internal static delegate* unmanaged<nint, void> BN_MONT_CTX_free;
    internal static delegate* unmanaged<void> ERR_clear_error;

    internal static bool TryLoad(out string? error)
    {
        if (s_loaded)
        {
            error = null;
            return true;
        }
        lock (s_gate)
        {
            if (!s_loaded && s_error is null) s_error = Load();
            error = s_error;
            return s_loaded;
        }
    }

    /// <summary>Throws a clear <see cref="PlatformNotSupportedException"/> when libcrypto cannot be used.</summary>
    internal static void Ensure()
    {
        if (s_loaded) return;
        if (!TryLoad(out var error)) throw new PlatformNotSupportedException(error);
    }

    internal static string? LoadedLibraryName => s_loadedName;

    private static string? Load()
    {
        nint lib = 0;
        string? name = null;
        foreach (var candidate in LibraryNames)
        {
            if (NativeLibrary.TryLoad(candidate, out lib))
            {
                name = candidate;
                break;
            }
        }
        if (lib == 0)
        {
            return "MtActors needs OpenSSL's libcrypto (version 3) for the MTProto handshake, but none of "
                + string.Join(", ", LibraryNames) + " could be loaded. Install OpenSSL 3 (Debian/Ubuntu: apt-get install libssl3).";
        }

        var missing = new List<string>();
        nint Get(string symbol)
        {
            if (NativeLibrary.TryGetExport(lib, symbol, out var p)) return p;
            missing.Add(symbol);
            return 0;
        }

        var bnNew = Get("BN_new");
        var bnClearFree = Get("BN_clear_free");
        var bin2bn = Get("BN_bin2bn");
        var bn2binpad = Get("BN_bn2binpad");
        var numBits = Get("BN_num_bits");
        var setFlags = Get("BN_set_flags");
        var ucmp = Get("BN_ucmp");
        var add = Get("BN_add");
        var mul = Get("BN_mul");
        var nnmod = Get("BN_nnmod");
        var modMul = Get("BN_mod_mul");
        var modSub = Get("BN_mod_sub");
        var modInverse = Get("BN_mod_inverse");
        var modExpMont = Get("BN_mod_exp_mont");
        var modExpConst = Get("BN_mod_exp_mont_consttime");
        var modExpConstX2 = Get("BN_mod_exp_mont_consttime_x2");
        var copy = Get("BN_copy");
        var ctxNew = Get("BN_CTX_new");
        var ctxFree = Get("BN_CTX_free");
        var montNew = Get("BN_MONT_CTX_new");
        var montSet = Get("BN_MONT_CTX_set");
        var montFree = Get("BN_MONT_CTX_free");
        var errClear = Get("ERR_clear_error");
        if (missing.Count > 0)
        {
            return $"The libcrypto found as {name} lacks {string.Join(", ", missing)}; MtActors needs OpenSSL 3.";
        }

        BN_new = (delegate* unmanaged<nint>)bnNew;
        BN_clear_free = (delegate* unmanaged<nint, void>)bnClearFree;
        BN_bin2bn = (delegate* unmanaged<byte*, int, nint, nint>)bin2bn;
        BN_bn2binpad = (delegate* unmanaged<nint, byte*, int, int>)bn2binpad;
        BN_num_bits = (delegate* unmanaged<nint, int>)numBits;
        BN_set_flags = (delegate* unmanaged<nint, int, void>)setFlags;
        BN_ucmp = (delegate* unmanaged<nint, nint, int>)ucmp;
        BN_add = (delegate* unmanaged<nint, nint, nint, int>)add;
        BN_mul = (delegate* unmanaged<nint, nint, nint, nint, int>)mul;
        BN_nnmod = (delegate* unmanaged<nint, nint, nint, nint, int>)nnmod;
        BN_mod_mul = (delegate* unmanaged<nint, nint, nint, nint, nint, int>)modMul;
        BN_mod_sub = (delegate* unmanaged<nint, nint, nint, nint, nint, int>)modSub;
        BN_mod_inverse = (delegate* unmanaged<nint, nint, nint, nint, nint>)modInverse;
        BN_mod_exp_mont = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, int>)modExpMont;
        BN_mod_exp_mont_consttime = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, int>)modExpConst;
        BN_mod_exp_mont_consttime_x2 = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, nint, nint, nint, nint, int>)modExpConstX2;
        BN_copy = (delegate* unmanaged<nint, nint, nint>)copy;
        BN_CTX_new = (delegate* unmanaged<nint>)ctxNew;
        BN_CTX_free = (delegate* unmanaged<nint, void>)ctxFree;
        BN_MONT_CTX_new = (delegate* unmanaged<nint>)montNew;
        BN_MONT_CTX_set = (delegate* unmanaged<nint, nint, nint, int>)montSet;
        BN_MONT_CTX_free = (delegate* unmanaged<nint, void>)montFree;
        ERR_clear_error = (delegate* unmanaged<void>)errClear;
        s_loadedName = name;
        s_loaded = true;
        return null;
    }
}
