using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MtActors.Protocol.Crypto;

/// <summary>
/// A 2048-bit MTProto authorization key with its derived identifiers:
/// auth_key_id = SHA1(key)[12..20) and auth_key_aux_hash = SHA1(key)[0..8), both read little-endian
/// as they appear on the wire. Immutable; the key bytes are copied in.
/// </summary>
public sealed class AuthKey
{
    public const int Length = 256;

    private readonly byte[] _key;

    /// <param name="key">Exactly 256 bytes.</param>
    public AuthKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != Length) throw new ArgumentException("An auth key is exactly 256 bytes.", nameof(key));
        _key = key.ToArray();
        Span<byte> sha1 = stackalloc byte[20];
        SHA1.HashData(_key, sha1);
        Id = BinaryPrimitives.ReadInt64LittleEndian(sha1[12..]);
        AuxHash = BinaryPrimitives.ReadInt64LittleEndian(sha1);
    }

    /// <summary>The 256 key bytes (for persistence; never log them).</summary>
    public ReadOnlySpan<byte> Key => _key;

    /// <summary>auth_key_id as the int64 in the frame's first 8 bytes.</summary>
    public long Id { get; }

    /// <summary>auth_key_aux_hash (SHA1(key)[0..8) read little-endian).</summary>
    public long AuxHash { get; }

    /// <summary>auth_key_id of raw key bytes.</summary>
    public static long ComputeId(ReadOnlySpan<byte> key)
    {
        if (key.Length != Length) throw new ArgumentException("An auth key is exactly 256 bytes.", nameof(key));
        Span<byte> sha1 = stackalloc byte[20];
        SHA1.HashData(key, sha1);
        return BinaryPrimitives.ReadInt64LittleEndian(sha1[12..]);
    }

    public override string ToString() => $"AuthKey {Id:x16}";
}
