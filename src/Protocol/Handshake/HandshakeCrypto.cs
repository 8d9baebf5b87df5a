using System.Buffers.Binary;
using System.Security.Cryptography;
using MtActors.Protocol.Crypto;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Handshake;

/// <summary>How a client wrapped p_q_inner_data before the raw RSA operation (spec §6.2).</summary>
public enum RsaScheme
{
    /// <summary>RSA_PAD: temp_key_xor || AES-IGE(reversed padded data || SHA256) (current clients).</summary>
    RsaPad,
    /// <summary>Legacy: SHA1(data) || data || random, 255 bytes (Telethon v1, pre-2021 clients).</summary>
    Sha1,
}

/// <summary>The hash and key-derivation pieces of auth-key creation (spec §6), as pure functions.</summary>
public static class HandshakeCrypto
{
    /// <summary>
    /// tmp_aes_key = SHA1(new_nonce || server_nonce) || SHA1(server_nonce || new_nonce)[0..12);
    /// tmp_aes_iv = SHA1(server_nonce || new_nonce)[12..20) || SHA1(new_nonce || new_nonce) || new_nonce[0..4).
    /// </summary>
    public static void DeriveTmpAes(ReadOnlySpan<byte> newNonce, ReadOnlySpan<byte> serverNonce, Span<byte> key, Span<byte> iv)
    {
        if (newNonce.Length != 32 || serverNonce.Length != 16) throw new ArgumentException("new_nonce is 32 bytes, server_nonce 16.");
        if (key.Length != 32 || iv.Length != 32) throw new ArgumentException("tmp_aes key and iv are 32 bytes.");
        Span<byte> buf = stackalloc byte[64];
        Span<byte> nsHash = stackalloc byte[20];
        Span<byte> snHash = stackalloc byte[20];
        Span<byte> nnHash = stackalloc byte[20];
        newNonce.CopyTo(buf);
        serverNonce.CopyTo(buf[32..]);
        SHA1.HashData(buf[..48], nsHash);
        serverNonce.CopyTo(buf);
        newNonce.CopyTo(buf[16..]);
        SHA1.HashData(buf[..48], snHash);
        newNonce.CopyTo(buf);
        newNonce.CopyTo(buf[32..]);
        SHA1.HashData(buf, nnHash);
        nsHash.CopyTo(key);
        snHash[..12].CopyTo(key[20..]);
        snHash[12..20].CopyTo(iv);
        nnHash.CopyTo(iv[8..]);
        newNonce[..4].CopyTo(iv[28..]);
        CryptographicOperations.ZeroMemory(buf);
    }

    /// <summary>new_nonce_hashN = SHA1(new_nonce || byte N || auth_key_aux_hash)[4..20) (N = 1 ok, 2 retry, 3 fail).</summary>
    public static UInt128 NewNonceHash(ReadOnlySpan<byte> newNonce, int n, long auxHash)
    {
        Span<byte> buf = stackalloc byte[41];
        Span<byte> sha = stackalloc byte[20];
        newNonce.CopyTo(buf);
        buf[32] = (byte)n;
        BinaryPrimitives.WriteInt64LittleEndian(buf[33..], auxHash);
        SHA1.HashData(buf, sha);
        return BinaryPrimitives.ReadUInt128LittleEndian(sha[4..]);
    }

    /// <summary>server_DH_params_fail's new_nonce_hash = SHA1(new_nonce)[4..20).</summary>
    public static UInt128 NewNonceHash(ReadOnlySpan<byte> newNonce)
    {
        Span<byte> sha = stackalloc byte[20];
        SHA1.HashData(newNonce, sha);
        return BinaryPrimitives.ReadUInt128LittleEndian(sha[4..]);
    }

    /// <summary>
    /// encrypted_answer = AES-256-IGE(SHA1(answer) || answer || random padding to a multiple of 16, tmp key, tmp iv).
    /// </summary>
    public static byte[] EncryptAnswer(ReadOnlySpan<byte> answer, ReadOnlySpan<byte> tmpKey, ReadOnlySpan<byte> tmpIv, HandshakeRandom random)
    {
        int length = (20 + answer.Length + 15) & ~15;
        var plain = new byte[length];
        SHA1.HashData(answer, plain);
        answer.CopyTo(plain.AsSpan(20));
        random(plain.AsSpan(20 + answer.Length));
        var result = new byte[length];
        AesIge.Encrypt(tmpKey, tmpIv, plain, result);
        CryptographicOperations.ZeroMemory(plain);
        return result;
    }

    /// <summary>
    /// Recovers p_q_inner_data* from the 256-byte RSA plaintext: RSA_PAD first (SHA256 check), the legacy SHA1
    /// scheme second. Returns <see cref="HandshakeError.BadRsaPadding"/> when neither hash holds and
    /// <see cref="HandshakeError.BadInnerData"/> when a hash holds but the TL does not parse.
    /// </summary>
    public static HandshakeError TryUnwrapInnerData(ReadOnlySpan<byte> m, out PqInnerData innerData, out RsaScheme scheme)
    {
        if (m.Length != 256) throw new ArgumentException("The RSA plaintext is 256 bytes.", nameof(m));
        innerData = null!;

        // A) RSA_PAD
        Span<byte> work = stackalloc byte[32 + 224 + 32 + 192];
        Span<byte> tempKey = work[..32];
        Span<byte> dataWithHash = work.Slice(32, 224);
        Span<byte> hashInput = work.Slice(256, 32 + 192);
        try
        {
            var aesEncrypted = m[32..];
            SHA256.HashData(aesEncrypted, tempKey);
            for (int i = 0; i < 32; i++) tempKey[i] ^= m[i];
            Span<byte> zeroIv = stackalloc byte[32];
            zeroIv.Clear();
            AesIge.Decrypt(tempKey, zeroIv, aesEncrypted, dataWithHash);
            // hashInput = temp_key || reverse(data_with_hash[0..192))
            tempKey.CopyTo(hashInput);
            var dataWithPadding = hashInput[32..];
            dataWithHash[..192].CopyTo(dataWithPadding);
            dataWithPadding.Reverse();
            Span<byte> h = stackalloc byte[32];
            SHA256.HashData(hashInput, h);
            if (CryptographicOperations.FixedTimeEquals(h, dataWithHash[192..]))
            {
                scheme = RsaScheme.RsaPad;
                var reader = new TlReader(dataWithPadding);
                return PqInnerData.TryRead(ref reader, out innerData) ? HandshakeError.None : HandshakeError.BadInnerData;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(work);
        }

        // B) legacy: 0x00 || SHA1(data) || data || random (m < n since the top byte is zero)
        scheme = RsaScheme.Sha1;
        if (m[0] == 0)
        {
            var rest = m[21..];
            var reader = new TlReader(rest);
            if (PqInnerData.TryRead(ref reader, out var candidate))
            {
                Span<byte> sha = stackalloc byte[20];
                SHA1.HashData(rest[..reader.Position], sha);
                if (CryptographicOperations.FixedTimeEquals(sha, m[1..21]))
                {
                    innerData = candidate;
                    return HandshakeError.None;
                }
            }
        }
        innerData = null!;
        return HandshakeError.BadRsaPadding;
    }
}
