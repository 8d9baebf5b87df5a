using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>
/// Cryptographically secure random bytes for padding, drawn from a per-thread buffer refilled from
/// <see cref="RandomNumberGenerator"/>: one platform call per 4 KiB (about a hundred messages' padding) instead of one per
/// message. Every byte is handed out once and wiped from the buffer.
/// </summary>
internal static class RandomPool
{
    private const int PoolSize = 4096;
    private const int DirectThreshold = 64;

    [ThreadStatic] private static byte[]? t_pool;
    [ThreadStatic] private static int t_position;

    public static void Fill(Span<byte> destination)
    {
        if (destination.Length > DirectThreshold)
        {
            RandomNumberGenerator.Fill(destination);
            return;
        }
        byte[] pool = t_pool ??= new byte[PoolSize];
        if (t_position == 0 || PoolSize - t_position < destination.Length)
        {
            RandomNumberGenerator.Fill(pool);
            t_position = 0;
        }
        Span<byte> taken = pool.AsSpan(t_position, destination.Length);
        taken.CopyTo(destination);
        taken.Clear();
        t_position += destination.Length;
        if (t_position == PoolSize) t_position = 0;
    }

    /// <summary>A uniform value in [0, 16).</summary>
    public static int Next16()
    {
        Span<byte> one = stackalloc byte[1];
        Fill(one);
        return one[0] & 15;
    }
}
