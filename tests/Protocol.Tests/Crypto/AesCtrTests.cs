using System.Buffers.Binary;
using MtActors.Protocol.Crypto;
using static MtActors.Protocol.Tests.Crypto.CryptoTestData;

namespace MtActors.Protocol.Tests.Crypto;

public sealed class AesCtrTests
{
    public static TheoryData<bool> Backends => new() { false, true };

    [Theory, MemberData(nameof(Backends))]
    public void Nist_sp800_38a_f55_ctr_aes256(bool fallback)
    {
        byte[] key = Hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        byte[] iv = Hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        byte[] plain = Hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
        using var ctr = new AesCtr(key, iv, fallback);
        var output = new byte[plain.Length];
        ctr.Transform(plain, output);
        Assert.Equal("601EC313775789A5B7A7F504BBF3D228F443E3CA4D62B59ACA84E990CACAF5C52B0930DAA23DE94CE87017BA2D84988DDFC9C58DB67AADA613C2DD08457941A6", ToHex(output));
        Assert.Equal(64, ctr.Position);
    }

    [Theory, MemberData(nameof(Backends))]
    public void Counter_carries_across_the_64_bit_halves_like_openssl(bool fallback)
    {
        // Expected values from `openssl enc -aes-256-ctr` (whole 128-bit big-endian counter).
        byte[] key = Sequence(32);
        using (var ctr = new AesCtr(key, Hex("0000000000000000fffffffffffffffe"), fallback))
        {
            var output = new byte[64];
            ctr.Transform(output);
            Assert.Equal("EDBD962BD987BCFDF61DD63CA82D92B9A6FBDB5CFDE07D1B58FD362177BCFFDF511DD5EF9A682B7DA49F91C86C4F7AC340C53CEF92EF2D643F638B8222DB1E85", ToHex(output));
        }
        using (var ctr = new AesCtr(key, Hex("ffffffffffffffffffffffffffffffff"), fallback))
        {
            var output = new byte[48];
            ctr.Transform(output);
            Assert.Equal("E999E41D4CA770DA5387117B5D8F57EEF29000B62A499FD0A9F39A6ADD2E7780F05D76AE4AB99FE5A6F69B3148C2363D", ToHex(output));
        }
    }

    [Theory, MemberData(nameof(Backends))]
    public void Matches_an_independent_ecb_reference_for_any_split_of_the_stream(bool fallback)
    {
        var rng = new Random(77);
        for (int round = 0; round < 30; round++)
        {
            byte[] key = new byte[32], iv = new byte[16];
            rng.NextBytes(key);
            rng.NextBytes(iv);
            if (round % 3 == 0) iv.AsSpan(8).Fill(0xff); // force carries
            byte[] data = new byte[rng.Next(0, 2000)];
            rng.NextBytes(data);
            byte[] expected = Reference(key, iv, data);

            using var ctr = new AesCtr(key, iv, fallback);
            byte[] output = new byte[data.Length];
            int off = 0;
            while (off < data.Length)
            {
                int n = Math.Min(rng.Next(0, 100), data.Length - off);
                ctr.Transform(data.AsSpan(off, n), output.AsSpan(off, n));
                off += n;
            }
            Assert.Equal(expected, output);
        }
    }

    [Fact]
    public void Sequence_overload_handles_multiple_segments()
    {
        byte[] key = Sequence(32), iv = Sequence(16, 50);
        byte[] data = Sequence(300, 7);
        var sequence = TestSequence.Create(data, 1, 17, 100);
        using var ctr = new AesCtr(key, iv);
        var output = new byte[300];
        ctr.Transform(sequence, output);
        Assert.Equal(Reference(key, iv, data), output);
    }

    private static byte[] Reference(byte[] key, byte[] iv, byte[] data)
    {
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = key;
        var counter = (byte[])iv.Clone();
        var result = new byte[data.Length];
        var block = new byte[16];
        for (int off = 0; off < data.Length; off += 16)
        {
            aes.EncryptEcb(counter, block, System.Security.Cryptography.PaddingMode.None);
            for (int i = 0; i < 16 && off + i < data.Length; i++) result[off + i] = (byte)(data[off + i] ^ block[i]);
            for (int i = 15; i >= 0; i--) if (++counter[i] != 0) break;
        }
        return result;
    }
}
