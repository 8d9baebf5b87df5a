using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MtActors.Protocol.Messages;

/// <summary>Server salt helpers.</summary>
public static class ServerSalts
{
    /// <summary>A fresh random 64-bit salt (never 0: 0 is what clients send before they know one).</summary>
    public static long NewRandom()
    {
        Span<byte> b = stackalloc byte[8];
        long salt;
        do
        {
            RandomNumberGenerator.Fill(b);
            salt = BinaryPrimitives.ReadInt64LittleEndian(b);
        } while (salt == 0);
        return salt;
    }

    /// <summary>Initial salt after key creation: new_nonce[0..8) XOR server_nonce[0..8), read as int64 LE.</summary>
    public static long Initial(ReadOnlySpan<byte> newNonce, ReadOnlySpan<byte> serverNonce) =>
        BinaryPrimitives.ReadInt64LittleEndian(newNonce) ^ BinaryPrimitives.ReadInt64LittleEndian(serverNonce);
}
