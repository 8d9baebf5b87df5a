using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>
/// SHA-256 of the concatenation of two spans, for the per-message hashes of MTProto 2.0 (msg_key and the KDF: three
/// hashes of 52 to a few hundred bytes per message and direction).
/// </summary>
/// <remarks>
/// .NET's <see cref="IncrementalHash"/> goes through OpenSSL's EVP layer: every hash clears the thread's OpenSSL error
/// queue several times, resets a provider context (a free and an allocation) and dispatches through the provider. For
/// inputs this small that overhead was larger than the compression itself: libcrypto's bookkeeping
/// (<c>ERR_clear_error</c>, <c>CRYPTO_free</c>) took about a quarter of all CPU of a saturated round-trip benchmark,
/// client and silo together. OpenSSL's low-level <c>SHA256_Init</c> / <c>SHA256_Update</c> / <c>SHA256_Final</c>
/// (deprecated in OpenSSL 3 but exported by every build that ships them) run the same SHA-NI / AVX2 block code on a
/// context on our stack with no allocation and no error queue. They are bound once; a self-test against .NET's
/// SHA-256 at start decides whether they are used, and without them (or when the test fails) the EVP path is used, so
/// the result is always the same hash.
/// </remarks>
public static unsafe class Sha256
{
    public const int HashLength = 32;

    // OpenSSL's SHA256_CTX is 112 bytes (8 + 2 + 16 + 2 uint32); reserve more so a larger layout cannot overrun.
    private const int ContextBytes = 256;

    // Updates up to this size skip the GC transition (a few microseconds at most); longer ones take the normal one so a
    // large message cannot hold up a garbage collection.
    private const int ShortUpdate = 16 * 1024;

    private static readonly delegate* unmanaged[SuppressGCTransition]<byte*, int> s_init;
    private static readonly delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int> s_updateShort;
    private static readonly delegate* unmanaged<byte*, byte*, nuint, int> s_updateLong;
    private static readonly delegate* unmanaged[SuppressGCTransition]<byte*, byte*, int> s_final;

    [ThreadStatic] private static IncrementalHash? t_fallback;

    static Sha256()
    {
        foreach (var name in Handshake.Native.LibCrypto.LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) continue;
            if (NativeLibrary.TryGetExport(lib, "SHA256_Init", out var init)
                && NativeLibrary.TryGetExport(lib, "SHA256_Update", out var update)
                && NativeLibrary.TryGetExport(lib, "SHA256_Final", out var final))
            {
                s_init = (delegate* unmanaged[SuppressGCTransition]<byte*, int>)init;
                s_updateShort = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, nuint, int>)update;
                s_updateLong = (delegate* unmanaged<byte*, byte*, nuint, int>)update;
                s_final = (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, int>)final;
                IsNative = SelfTest();
            }
            break;
        }
    }

    /// <summary>True when OpenSSL's low-level SHA-256 is in use (false: .NET's <see cref="IncrementalHash"/>).</summary>
    public static bool IsNative { get; }

    /// <summary>Writes SHA256(<paramref name="first"/> || <paramref name="second"/>) to <paramref name="destination"/>.</summary>
    public static void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination)
    {
        if (destination.Length < HashLength) throw new ArgumentException("SHA-256 needs 32 bytes.", nameof(destination));
        if (IsNative) NativeHash(first, second, destination);
        else FallbackHash(first, second, destination);
    }

    /// <summary>
    /// Writes HMAC-SHA256(<paramref name="key"/>, <paramref name="message"/>) (RFC 2104) to <paramref name="destination"/>:
    /// two hashes on this class's path, without the per-call provider setup of .NET's HMAC on OpenSSL.
    /// </summary>
    public static void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> destination)
    {
        const int block = 64;
        if (destination.Length < HashLength) throw new ArgumentException("HMAC-SHA256 needs 32 bytes.", nameof(destination));
        Span<byte> pad = stackalloc byte[block];
        Span<byte> inner = stackalloc byte[HashLength];
        if (key.Length > block) Hash(key, default, pad);
        else key.CopyTo(pad);
        for (int i = 0; i < block; i++) pad[i] ^= 0x36;
        Hash(pad, message, inner);
        for (int i = 0; i < block; i++) pad[i] ^= 0x36 ^ 0x5c;
        Hash(pad, inner, destination);
        pad.Clear();
        inner.Clear();
    }

    [System.Runtime.CompilerServices.SkipLocalsInit] // SHA256_Init writes the context; zeroing it first is wasted
    private static void NativeHash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination)
    {
        byte* context = stackalloc byte[ContextBytes];
        fixed (byte* a = first)
        fixed (byte* b = second)
        fixed (byte* d = destination)
        {
            s_init(context);
            Update(context, a, first.Length);
            Update(context, b, second.Length);
            s_final(d, context);
        }
        // The context held key material (the auth key slices the KDF hashes).
        new Span<byte>(context, ContextBytes).Clear();
    }

    private static void Update(byte* context, byte* data, int length)
    {
        if (length == 0) return;
        if (length <= ShortUpdate) s_updateShort(context, data, (nuint)length);
        else s_updateLong(context, data, (nuint)length);
    }

    private static void FallbackHash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination)
    {
        // Used synchronously only (never across an await), so a thread-static instance is safe.
        var sha = t_fallback ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(first);
        sha.AppendData(second);
        sha.GetHashAndReset(destination);
    }

    private static bool SelfTest()
    {
        try
        {
            var data = new byte[ShortUpdate + 300];
            for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 31 + 7);
            Span<byte> ours = stackalloc byte[HashLength];
            Span<byte> theirs = stackalloc byte[HashLength];
            // Empty, one block boundary, two parts across a block, a long part (the transitioning update).
            foreach (var (a, b) in new[] { (0, 0), (0, 64), (36, 16), (32, 200), (3, ShortUpdate + 297) })
            {
                NativeHash(data.AsSpan(0, a), data.AsSpan(a, b), ours);
                SHA256.HashData(data.AsSpan(0, a + b), theirs);
                if (!ours.SequenceEqual(theirs)) return false;
            }
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
