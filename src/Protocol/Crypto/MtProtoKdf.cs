using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>Who produced an encrypted message; selects x in the MTProto 2.0 KDF (client 0, server 8).</summary>
public enum MessageSender
{
    /// <summary>Client to server, x = 0.</summary>
    Client = 0,
    /// <summary>Server to client, x = 8.</summary>
    Server = 8,
}

/// <summary>
/// MTProto 2.0 key derivation (spec §1.4):
/// msg_key_large = SHA256(auth_key[88+x..120+x) || plaintext), msg_key = msg_key_large[8..24),
/// sha256_a = SHA256(msg_key || auth_key[x..x+36)), sha256_b = SHA256(auth_key[40+x..76+x) || msg_key),
/// aes_key = a[0..8) || b[8..24) || a[24..32), aes_iv = b[0..8) || a[8..24) || b[24..32).
/// </summary>
public static class MtProtoKdf
{
    public const int MsgKeyLength = 16;
    public const int MsgKeyLargeLength = 32;

    /// <summary>Derives the AES-256-IGE key (32 bytes) and iv (32 bytes) for a msg_key.</summary>
    public static void DeriveAesKeyIv(ReadOnlySpan<byte> authKey, ReadOnlySpan<byte> msgKey, MessageSender sender, Span<byte> aesKey, Span<byte> aesIv)
    {
        if (authKey.Length != AuthKey.Length) throw new ArgumentException("An auth key is exactly 256 bytes.", nameof(authKey));
        if (msgKey.Length != MsgKeyLength) throw new ArgumentException("msg_key is 16 bytes.", nameof(msgKey));
        if (aesKey.Length < 32 || aesIv.Length < 32) throw new ArgumentException("aes key and iv need 32 bytes each.");
        int x = X(sender);
        Span<byte> a = stackalloc byte[32];
        Span<byte> b = stackalloc byte[32];
        Sha256.Hash(msgKey, authKey.Slice(x, 36), a);
        Sha256.Hash(authKey.Slice(40 + x, 36), msgKey, b);
        a[..8].CopyTo(aesKey);
        b[8..24].CopyTo(aesKey[8..]);
        a[24..32].CopyTo(aesKey[24..]);
        b[..8].CopyTo(aesIv);
        a[8..24].CopyTo(aesIv[8..]);
        b[24..32].CopyTo(aesIv[24..]);
        CryptographicOperations.ZeroMemory(a);
        CryptographicOperations.ZeroMemory(b);
    }

    /// <summary>msg_key_large (32 bytes) over the whole plaintext including padding.</summary>
    public static void ComputeMsgKeyLarge(ReadOnlySpan<byte> authKey, MessageSender sender, ReadOnlySpan<byte> plaintext, Span<byte> msgKeyLarge)
    {
        if (authKey.Length != AuthKey.Length) throw new ArgumentException("An auth key is exactly 256 bytes.", nameof(authKey));
        if (msgKeyLarge.Length < MsgKeyLargeLength) throw new ArgumentException("msg_key_large needs 32 bytes.", nameof(msgKeyLarge));
        Sha256.Hash(authKey.Slice(88 + X(sender), 32), plaintext, msgKeyLarge);
    }

    /// <summary>msg_key = the middle 128 bits of msg_key_large.</summary>
    public static ReadOnlySpan<byte> MsgKeyOf(ReadOnlySpan<byte> msgKeyLarge) => msgKeyLarge.Slice(8, MsgKeyLength);

    /// <summary>Quick-ack token: uint32 LE of msg_key_large[0..4) with bit 31 set.</summary>
    public static uint QuickAckToken(ReadOnlySpan<byte> msgKeyLarge) =>
        BinaryPrimitives.ReadUInt32LittleEndian(msgKeyLarge) | 0x80000000u;

    private static int X(MessageSender sender) => sender switch
    {
        MessageSender.Client => 0,
        MessageSender.Server => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(sender)),
    };
}
