using System.Buffers.Binary;
using MtActors.Protocol.Crypto;

namespace MtActors.Protocol.Messages;

/// <summary>Server salt helpers.</summary>
public static class ServerSalts
{
    /// <summary>A fresh random 64-bit salt (never 0: 0 is what clients send before they know one).</summary>
    public static long NewRandom() => SecureRandom.NonZeroInt64();

    /// <summary>Initial salt after key creation: new_nonce[0..8) XOR server_nonce[0..8), read as int64 LE.</summary>
    public static long Initial(ReadOnlySpan<byte> newNonce, ReadOnlySpan<byte> serverNonce) =>
        BinaryPrimitives.ReadInt64LittleEndian(newNonce) ^ BinaryPrimitives.ReadInt64LittleEndian(serverNonce);
}
