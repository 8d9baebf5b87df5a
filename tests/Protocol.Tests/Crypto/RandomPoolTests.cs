using MtActors.Protocol.Crypto;

namespace MtActors.Protocol.Tests.Crypto;

public sealed class RandomPoolTests
{
    [Fact]
    public void Hands_out_fresh_bytes_across_refills_and_for_large_requests()
    {
        var seen = new HashSet<string>();
        for (int i = 0; i < 200; i++) // 200 x 20 bytes crosses several 512-byte refills
        {
            var bytes = new byte[20];
            RandomPool.Fill(bytes);
            Assert.True(seen.Add(Convert.ToHexString(bytes)), "a padding value repeated");
        }
        var big = new byte[1000];
        RandomPool.Fill(big);
        Assert.True(big.Distinct().Count() > 200);
        var counts = new int[16];
        for (int i = 0; i < 1600; i++) counts[RandomPool.Next16()]++;
        Assert.All(counts, c => Assert.InRange(c, 40, 200));
    }
}
