using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>Random 64-bit values from <see cref="RandomNumberGenerator"/>.</summary>
public static class SecureRandom
{
    /// <summary>
    /// A uniform 64-bit value other than 0 (0 means "none yet" for salts and is no usable session id).
    /// </summary>
    public static long NonZeroInt64()
    {
        Span<byte> b = stackalloc byte[8];
        long value;
        do
        {
            RandomNumberGenerator.Fill(b);
            value = BinaryPrimitives.ReadInt64LittleEndian(b);
        } while (value == 0);
        return value;
    }
}
