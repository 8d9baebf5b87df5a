using System.IO.Compression;
using MtActors.Protocol.Schema;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Tests.Schema;

public class GzipPackedTests
{
    private static byte[] GzipOf(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    [Fact]
    public void Pack_and_inflate_round_trip()
    {
        var obj = new MsgsAck([.. Enumerable.Range(0, 500).Select(i => 0x65ABC0FC00000000L + 4 * i)]).ToBytes();
        var packed = GzipPacked.Pack(obj);
        Assert.True(packed.PackedData.Length < obj.Length);
        Assert.True(packed.TryInflate(GzipPacked.DefaultMaxInflatedSize, out var inflated, out var error));
        Assert.Equal(TlError.None, error);
        Assert.Equal(obj, inflated.ToArray());

        using var w = new TlWriter();
        GzipPacked.Write(w, obj);
        var r = new TlReader(w.WrittenSpan);
        Assert.True(GzipPacked.TryReadInflated(ref r, 1 << 20, out inflated));
        Assert.Equal(obj, inflated.ToArray());
        Assert.True(r.AtEnd);
    }

    [Fact]
    public void Data_made_by_another_gzip_encoder_inflates()
    {
        var data = new byte[100_000];
        new Random(3).NextBytes(data.AsSpan(0, 1000));
        Assert.True(GzipPacked.TryInflate(GzipOf(data), data.Length, out var inflated, out _));
        Assert.Equal(data, inflated.ToArray());
    }

    [Fact]
    public void Zlib_output_inflates()
    {
        // Python's gzip.compress(..., mtime=0) (zlib): the empty payload and the ping body of test-vectors §G.
        Assert.True(GzipPacked.TryInflate(Convert.FromHexString("1F8B080000000000020303000000000000000000"), 100, out var inflated, out _));
        Assert.Equal(0, inflated.Length);
        Assert.True(GzipPacked.TryInflate(Convert.FromHexString("1F8B08000000000002037B53BEAF4A435D4D554559491100B7933C120C000000"), 100, out inflated, out _));
        Assert.Equal("EC77BE7A2827262524232221", Convert.ToHexString(inflated.Span));
    }

    [Fact]
    public void Exactly_the_cap_is_allowed_one_more_byte_is_not()
    {
        var data = new byte[4096];
        var gz = GzipOf(data);
        Assert.True(GzipPacked.TryInflate(gz, 4096, out _, out _));
        Assert.False(GzipPacked.TryInflate(gz, 4095, out _, out var error));
        Assert.Equal(TlError.GzipTooLarge, error);
    }

    [Fact]
    public void Gzip_bomb_is_stopped_at_the_cap()
    {
        // 16 MiB of zeros compress to about 16 KiB; the cap is 1 MiB.
        var bomb = GzipOf(new byte[16 << 20]);
        Assert.True(bomb.Length < 40_000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(GzipPacked.TryInflate(bomb, 1 << 20, out _, out var error));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(TlError.GzipTooLarge, error);
        Assert.True(allocated < 8 << 20, $"allocated {allocated} bytes");

        // The same bomb with its trailer hiding the real size (claims 16 bytes) still stops at the cap.
        var lying = (byte[])bomb.Clone();
        BitConverter.TryWriteBytes(lying.AsSpan(lying.Length - 4), 16);
        Assert.False(GzipPacked.TryInflate(lying, 1 << 20, out _, out error));
        Assert.Equal(TlError.GzipTooLarge, error);
    }

    [Fact]
    public void Gzip_bomb_inside_a_message_is_a_typed_error()
    {
        using var w = new TlWriter();
        GzipPacked.Write(w, new byte[8 << 20], CompressionLevel.SmallestSize);
        var r = new TlReader(w.WrittenSpan);
        Assert.False(GzipPacked.TryReadInflated(ref r, GzipPacked.DefaultMaxInflatedSize, out _));
        Assert.Equal(TlError.GzipTooLarge, r.Error);
    }

    [Fact]
    public void Corrupt_gzip_is_bad_gzip()
    {
        var good = GzipOf(Samples.PingBody.Concat(new byte[200]).ToArray());
        var random = new Random(99);
        var garbage = new byte[64];
        random.NextBytes(garbage);
        Assert.False(GzipPacked.TryInflate(garbage, 1 << 20, out _, out var error));
        Assert.Equal(TlError.BadGzip, error);

        // Every truncation, and a flipped bit anywhere, is caught (header, deflate data, CRC32 or size check).
        for (int cut = 0; cut < good.Length; cut++)
        {
            Assert.False(GzipPacked.TryInflate(good.AsSpan(0, cut), 1 << 20, out _, out error), $"cut {cut}");
            Assert.True(error is TlError.BadGzip or TlError.GzipTooLarge, $"cut {cut}: {error}");
        }
        for (int i = 0; i < good.Length; i++)
        {
            var bad = (byte[])good.Clone();
            bad[i] ^= 0x10;
            if (GzipPacked.TryInflate(bad, 1 << 20, out var inflated, out error))
            {
                // Flipping header flag/mtime/OS bits can leave a valid stream; then the content must be intact.
                Assert.True(i < 10, $"byte {i}");
                Assert.Equal(Samples.PingBody.Concat(new byte[200]), inflated.ToArray());
            }
        }
        // Trailing bytes after the member, and a second member, are rejected.
        Assert.False(GzipPacked.TryInflate(good.Concat(new byte[8]).ToArray(), 1 << 20, out _, out _));
        Assert.False(GzipPacked.TryInflate(good.Concat(good).ToArray(), 1 << 20, out _, out _));
    }
}
