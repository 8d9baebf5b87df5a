using System.Buffers.Binary;
using System.Security.Cryptography;
using MtActors.Protocol.Crypto;

namespace MtActors.Protocol.Transport;

/// <summary>
/// The obfuscated transport's 64-byte init (spec §7.5). Client-to-server stream: key = init[8..40),
/// iv = init[40..56). Server-to-client stream: the same ranges of the byte-reversed init. With an
/// MTProxy secret each key becomes SHA256(key || secret). Bytes 56..60 carry the inner transport's tag
/// and 60..62 an int16 DC id, both only readable after CTR decryption.
/// </summary>
internal static class Obfuscation
{
    public const int InitLength = 64;

    public static (AesCtr ClientToServer, AesCtr ServerToClient) CreateStreams(ReadOnlySpan<byte> init, byte[]? secret)
    {
        Span<byte> reversed = stackalloc byte[InitLength];
        init[..InitLength].CopyTo(reversed);
        reversed.Reverse();
        return (CreateStream(init, secret), CreateStream(reversed, secret));
    }

    private static AesCtr CreateStream(ReadOnlySpan<byte> init, byte[]? secret)
    {
        Span<byte> key = stackalloc byte[32];
        if (secret is null)
        {
            init.Slice(8, 32).CopyTo(key);
        }
        else
        {
            Span<byte> material = stackalloc byte[48];
            init.Slice(8, 32).CopyTo(material);
            secret.CopyTo(material[32..]);
            SHA256.HashData(material, key);
            CryptographicOperations.ZeroMemory(material);
        }
        var ctr = new AesCtr(key, init.Slice(40, 16));
        CryptographicOperations.ZeroMemory(key);
        return ctr;
    }

    /// <summary>Whether a random init could be mistaken for another transport (clients must not send those).</summary>
    public static bool IsAmbiguous(ReadOnlySpan<byte> init)
    {
        if (init[0] == 0xEF) return true;
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(init);
        if (first is ServerTransport.HeadVerb or ServerTransport.PostVerb or ServerTransport.GetVerb or ServerTransport.OptionsVerb
            or ServerTransport.FakeTlsStart or 0xDDDDDDDDu or 0xEEEEEEEEu) return true;
        return BinaryPrimitives.ReadUInt32LittleEndian(init[4..]) == 0;
    }
}
