using System.Security.Cryptography;
using MtActors.Protocol.Crypto;
using static MtActors.Protocol.Tests.Crypto.CryptoTestData;

namespace MtActors.Protocol.Tests.Crypto;

public sealed class AesIgeTests
{
    public static TheoryData<bool> Backends => new() { false, true };

    private static AesIgeCipher Create(byte[] key, bool fallback) => new(key, forceFallback: fallback, allowAes128: true);

    [Fact]
    public void Uses_the_hardware_path_exactly_when_the_cpu_has_aes_ni()
    {
        using var hw = new AesIgeCipher(new byte[32]);
        using var sw = new AesIgeCipher(new byte[32], forceFallback: true, allowAes128: false);
        Assert.Equal(System.Runtime.Intrinsics.X86.Aes.IsSupported, hw.IsHardwareAccelerated);
        Assert.False(sw.IsHardwareAccelerated);
    }

    [Theory, MemberData(nameof(Backends))]
    public void Grammers_self_test_vectors(bool fallback)
    {
        // key = iv = data = 00..1F (test-vectors.md §B).
        byte[] k = Sequence(32);
        using var cipher = Create(k, fallback);
        var output = new byte[32];
        cipher.Encrypt(k, k, output);
        Assert.Equal("E28112A53E5C89C7B1EA8071C133699FD4E86B26C4BAC9FC5AF1AB8CE27A44A4", ToHex(output));
        cipher.Decrypt(k, k, output);
        Assert.Equal("E5777AFACD7B2C16F7AC40CAE61EF603FEE6098FB8A8860AB9EE672CD7E5BACC", ToHex(output));
    }

    [Fact]
    public void Static_api_matches_grammers_vectors()
    {
        byte[] k = Sequence(32);
        var output = new byte[32];
        AesIge.Encrypt(k, k, k, output);
        Assert.Equal("E28112A53E5C89C7B1EA8071C133699FD4E86B26C4BAC9FC5AF1AB8CE27A44A4", ToHex(output));
        AesIge.Decrypt(k, k, k, output);
        Assert.Equal("E5777AFACD7B2C16F7AC40CAE61EF603FEE6098FB8A8860AB9EE672CD7E5BACC", ToHex(output));
    }

    [Theory, MemberData(nameof(Backends))]
    public void OpenSsl_igetest_vector_1_encrypts(bool fallback)
    {
        // AES-128 (test-vectors.md §E): the IGE chaining is key-size independent.
        using var cipher = Create(Sequence(16), fallback);
        var output = new byte[32];
        cipher.Encrypt(Sequence(32), new byte[32], output);
        Assert.Equal("1A8519A6557BE652E9DA8E43DA4EF4453CF456B4CA488AA383C79C98B34797CB", ToHex(output));
        cipher.Decrypt(Sequence(32), output, output);
        Assert.Equal(new byte[32], output);
    }

    [Theory, MemberData(nameof(Backends))]
    public void OpenSsl_igetest_vector_2_is_a_decrypt_vector(bool fallback)
    {
        using var cipher = Create("This is an imple"u8.ToArray(), fallback);
        byte[] iv = "mentation of IGE mode for OpenSS"u8.ToArray();
        byte[] text = "L. Let's hope Ben got it right!\n"u8.ToArray();
        var output = new byte[32];
        cipher.Decrypt(iv, text, output);
        Assert.Equal("99706487A1CDE613BC6DE0B6F24B1C7AA448C8B9C3403E3467A8CAD89340F53B", ToHex(output));
        cipher.Encrypt(iv, output, output);
        Assert.Equal(text, output);
    }

    [Theory, MemberData(nameof(Backends))]
    public void Handshake_sample_server_dh_params_answer_592_bytes(bool fallback)
    {
        byte[] key = Hex(SampleTmpAesKey), iv = Hex(SampleTmpAesIv);
        byte[] encrypted = Hex(SampleEncryptedAnswer), plain = Hex(SampleAnswerWithHash);
        Assert.Equal(592, encrypted.Length);
        using var cipher = Create(key, fallback);
        var output = new byte[592];
        cipher.Decrypt(iv, encrypted, output);
        Assert.Equal(plain, output);
        cipher.Encrypt(iv, plain, output);
        Assert.Equal(encrypted, output);
        // The first 20 bytes are SHA1 of the 564-byte server_DH_inner_data that follows.
        Assert.Equal(plain[..20], SHA1.HashData(plain.AsSpan(20, 564)));
    }

    [Theory, MemberData(nameof(Backends))]
    public void Handshake_sample_set_client_dh_params_336_bytes(bool fallback)
    {
        byte[] inner = Hex(SampleClientDhInnerData);
        byte[] plain = [.. SHA1.HashData(inner), .. inner, .. Hex(SampleClientPadding)];
        Assert.Equal(336, plain.Length);
        using var cipher = Create(Hex(SampleTmpAesKey), fallback);
        var output = new byte[336];
        cipher.Encrypt(Hex(SampleTmpAesIv), plain, output);
        Assert.Equal(SampleSetClientDhEncrypted, ToHex(output));
        cipher.Decrypt(Hex(SampleTmpAesIv), output, output);
        Assert.Equal(plain, output);
    }

    [Fact]
    public void Hardware_and_fallback_agree_and_round_trip_for_random_sizes_and_in_place()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 200; i++)
        {
            byte[] key = new byte[32], iv = new byte[32];
            rng.NextBytes(key);
            rng.NextBytes(iv);
            byte[] data = new byte[16 * rng.Next(0, 80)];
            rng.NextBytes(data);
            using var hw = new AesIgeCipher(key);
            using var sw = new AesIgeCipher(key, forceFallback: true, allowAes128: false);
            byte[] c1 = new byte[data.Length], c2 = new byte[data.Length];
            hw.Encrypt(iv, data, c1);
            sw.Encrypt(iv, data, c2);
            Assert.Equal(c1, c2);
            byte[] c3 = new byte[data.Length];
            AesIge.Encrypt(key, iv, data, c3);
            Assert.Equal(c1, c3);

            byte[] inPlace = (byte[])c1.Clone();
            hw.Decrypt(iv, inPlace, inPlace);
            Assert.Equal(data, inPlace);
            sw.Decrypt(iv, c2, c2);
            Assert.Equal(data, c2);
            AesIge.Decrypt(key, iv, c1, c1);
            Assert.Equal(data, c1);
        }
    }

    [Fact]
    public void Ige_chaining_makes_every_block_depend_on_the_previous_ones()
    {
        byte[] key = Sequence(32), iv = Sequence(32, 100);
        byte[] a = new byte[64], b = new byte[64];
        byte[] ca = new byte[64], cb = new byte[64];
        b[0] = 1; // differ only in the first block
        AesIge.Encrypt(key, iv, a, ca);
        AesIge.Encrypt(key, iv, b, cb);
        for (int block = 0; block < 4; block++)
            Assert.False(ca.AsSpan(block * 16, 16).SequenceEqual(cb.AsSpan(block * 16, 16)));
    }

    [Fact]
    public void Rejects_bad_arguments()
    {
        var buffer = new byte[32];
        Assert.Throws<ArgumentException>(() => AesIge.Encrypt(new byte[16], new byte[32], buffer, buffer));
        Assert.Throws<ArgumentException>(() => AesIge.Encrypt(new byte[32], new byte[16], buffer, buffer));
        Assert.Throws<ArgumentException>(() => AesIge.Decrypt(new byte[32], new byte[32], new byte[17], new byte[17]));
        Assert.Throws<ArgumentException>(() => AesIge.Decrypt(new byte[32], new byte[32], buffer, new byte[16]));
        Assert.Throws<ArgumentException>(() => new AesIgeCipher(new byte[16]));
    }
}
