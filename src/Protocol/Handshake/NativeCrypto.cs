using MtActors.Protocol.Handshake.Native;

namespace MtActors.Protocol.Handshake;

/// <summary>Start-up check for the native crypto the handshake depends on.</summary>
public static class NativeCrypto
{
    /// <summary>True when libcrypto could be loaded and has every function the handshake needs.</summary>
    public static bool IsAvailable => LibCrypto.TryLoad(out _);

    /// <summary>Why libcrypto cannot be used, or null when it can.</summary>
    public static string? UnavailableReason => LibCrypto.TryLoad(out var error) ? null : error;

    /// <summary>The library name that was loaded (e.g. libcrypto.so.3), or null.</summary>
    public static string? LibraryName => LibCrypto.TryLoad(out _) ? LibCrypto.LoadedLibraryName : null;

    /// <summary>Throws <see cref="PlatformNotSupportedException"/> with a clear message when libcrypto is missing.
    /// Call it at start-up so a missing OpenSSL fails the process early, not the first client handshake.</summary>
    public static void EnsureAvailable() => LibCrypto.Ensure();
}
