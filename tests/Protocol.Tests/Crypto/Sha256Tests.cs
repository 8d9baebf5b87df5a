using System.Security.Cryptography;
using System.Text;
using MtActors.Protocol.Crypto;
using Xunit;

namespace MtActors.Protocol.Tests.Crypto;

public class Sha256Tests
{
    [Fact]
    public void Uses_openssl_low_level_sha256_on_linux()
    {
        // The message path's speed depends on it; a silent fallback to the EVP path would still be correct but slower.
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(Sha256.IsNative, "OpenSSL's SHA256_Init/Update/Final were not bound or failed the self-test.");
    }

    [Fact]
    public void Fips_180_vectors()
    {
        Span<byte> digest = stackalloc byte[32];
        Sha256.Hash("ab"u8, "c"u8, digest);
        Assert.Equal("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", Convert.ToHexString(digest));
        Sha256.Hash(default, default, digest);
        Assert.Equal("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", Convert.ToHexString(digest));
        var two = Encoding.ASCII.GetBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
        Sha256.Hash(two.AsSpan(0, 20), two.AsSpan(20), digest);
        Assert.Equal("248D6A61D20638B8E5C026930C3E6039A33CE45964FF2167F6ECEDD419DB06C1", Convert.ToHexString(digest));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Matches_dotnet_for_every_split_of_many_lengths(int seed)
    {
        var random = new Random(seed);
        var data = new byte[40_008];
        random.NextBytes(data);
        Span<byte> ours = stackalloc byte[32];
        Span<byte> expected = stackalloc byte[32];
        foreach (int length in new[] { 0, 1, 51, 52, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 16_384, 16_385, 39_999 })
        {
            foreach (int split in new[] { 0, 1, length / 2, Math.Max(0, length - 1), length }.Where(s => s <= length).Distinct())
            {
                int offset = random.Next(0, 7);
                var input = data.AsSpan(offset, length);
                Sha256.Hash(input[..split], input[split..], ours);
                SHA256.HashData(input, expected);
                Assert.True(ours.SequenceEqual(expected), $"length {length}, split {split}");
            }
        }
    }

    [Fact]
    public void Hmac_rfc_4231_vectors()
    {
        Span<byte> mac = stackalloc byte[32];
        Sha256.Hmac(Enumerable.Repeat((byte)0x0b, 20).ToArray(), "Hi There"u8, mac);
        Assert.Equal("B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7", Convert.ToHexString(mac));
        Sha256.Hmac("Jefe"u8, "what do ya want for nothing?"u8, mac);
        Assert.Equal("5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843", Convert.ToHexString(mac));
        // A key longer than the block is hashed first.
        Sha256.Hmac(Enumerable.Repeat((byte)0xaa, 131).ToArray(), "Test Using Larger Than Block-Size Key - Hash Key First"u8, mac);
        Assert.Equal("60E431591EE0B67F0D8A26AACBF5B77F8E0BC6213728C5140546040F0EE37F54", Convert.ToHexString(mac));
    }

    [Fact]
    public void Hmac_matches_dotnet_for_keys_and_messages_of_many_lengths()
    {
        var random = new Random(7);
        Span<byte> ours = stackalloc byte[32];
        foreach (int keyLength in new[] { 0, 1, 32, 63, 64, 65, 200 })
        {
            foreach (int messageLength in new[] { 0, 1, 21, 55, 56, 64, 1000 })
            {
                byte[] key = new byte[keyLength], message = new byte[messageLength];
                random.NextBytes(key);
                random.NextBytes(message);
                Sha256.Hmac(key, message, ours);
                Assert.True(ours.SequenceEqual(HMACSHA256.HashData(key, message)), $"key {keyLength}, message {messageLength}");
            }
        }
        Assert.Throws<ArgumentException>(() => Sha256.Hmac("k"u8.ToArray(), "m"u8.ToArray(), new byte[31]));
    }

    [Fact]
    public void Short_destination_is_refused()
    {
        var destination = new byte[31];
        Assert.Throws<ArgumentException>(() => Sha256.Hash("a"u8, default, destination));
    }

    [Fact]
    public async Task Concurrent_hashing_on_many_threads_agrees()
    {
        var data = RandomNumberGenerator.GetBytes(300);
        var expected = SHA256.HashData(data);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            var digest = new byte[32];
            for (int i = 0; i < 20_000; i++)
            {
                Sha256.Hash(data.AsSpan(0, 100), data.AsSpan(100), digest);
                if (!digest.AsSpan().SequenceEqual(expected)) return false;
            }
            return true;
        })));
        Assert.All(results, Assert.True);
    }
}
