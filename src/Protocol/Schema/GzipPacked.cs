using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.IO.Compression;
using MtActors.Protocol.Tl;

namespace MtActors.Protocol.Schema;

/// <summary>
/// gzip_packed#3072cfa1 packed_data:string — a gzip stream (RFC 1952, one member) holding one boxed object.
/// Inflation is capped: data that would inflate past the cap fails with <see cref="TlError.GzipTooLarge"/>
/// after at most cap + 1 bytes were produced; corrupt, truncated or multi-member data fails with
/// <see cref="TlError.BadGzip"/> (the trailer's CRC32 and size are checked).
/// </summary>
public sealed record GzipPacked(ImmutableArray<byte> PackedData) : TlObject
{
    /// <summary>Default cap on the inflated size (4 MiB: above any legal query, far below a bomb's payoff).</summary>
    public const int DefaultMaxInflatedSize = 4 << 20;

    private const int GzipHeaderAndTrailer = 18;

    public override uint ConstructorId => ConstructorIds.GzipPacked;

    public override void WriteTo(TlWriter writer)
    {
        writer.WriteUInt32(ConstructorId);
        writer.WriteBytes(PackedData.AsSpan());
    }

    /// <summary>Compresses a serialized object into a new <see cref="GzipPacked"/>.</summary>
    public static GzipPacked Pack(ReadOnlySpan<byte> obj, CompressionLevel level = CompressionLevel.Fastest) =>
        new(Seq.Own(Compress(obj, level)));

    /// <summary>Writes gzip_packed holding the compressed <paramref name="obj"/> (a serialized boxed object).</summary>
    public static void Write(TlWriter writer, ReadOnlySpan<byte> obj, CompressionLevel level = CompressionLevel.Fastest)
    {
        writer.WriteUInt32(ConstructorIds.GzipPacked);
        writer.WriteBytes(Compress(obj, level));
    }

    private static byte[] Compress(ReadOnlySpan<byte> data, CompressionLevel level)
    {
        using var output = new MemoryStream(data.Length / 2 + 64);
        using (var gzip = new GZipStream(output, level, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>Inflates <see cref="PackedData"/>; see <see cref="TryInflate(ReadOnlySpan{byte}, int, out ReadOnlyMemory{byte}, out TlError)"/>.</summary>
    public bool TryInflate(int maxInflatedSize, out ReadOnlyMemory<byte> inflated, out TlError error) =>
        TryInflate(PackedData.AsSpan(), maxInflatedSize, out inflated, out error);

    /// <summary>
    /// Inflates a gzip stream into a new buffer of at most <paramref name="maxInflatedSize"/> bytes.
    /// Never throws for bad data. The buffer grows with the data produced, never by a length field.
    /// </summary>
    public static unsafe bool TryInflate(ReadOnlySpan<byte> gzip, int maxInflatedSize, out ReadOnlyMemory<byte> inflated, out TlError error)
    {
        inflated = default;
        // RFC 1952 magic and the deflate method; anything else is not gzip.
        if (gzip.Length < GzipHeaderAndTrailer || gzip[0] != 0x1f || gzip[1] != 0x8b || gzip[2] != 8)
        {
            error = TlError.BadGzip;
            return false;
        }
        uint expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(gzip[^8..]);
        uint expectedSize = BinaryPrimitives.ReadUInt32LittleEndian(gzip[^4..]);
        if (expectedSize > (uint)maxInflatedSize)
        {
            // The trailer claims more than the cap; a member always states its size mod 2^32, so a
            // stream that really fits the cap cannot carry this value unless it is corrupt.
            error = TlError.GzipTooLarge;
            return false;
        }
        // The first buffer is bounded by the input (the trailer's size is only a hint that avoids a copy
        // for honest data); it grows by doubling as bytes are actually produced.
        long firstSize = Math.Min(Math.Max(256L, (long)gzip.Length * 4), Math.Min((long)expectedSize + 1, (long)maxInflatedSize + 1));
        byte[] buffer = new byte[Math.Max(1, firstSize)];
        int total = 0;
        try
        {
            fixed (byte* p = gzip)
            {
                using var input = new UnmanagedMemoryStream(p, gzip.Length);
                using var stream = new GZipStream(input, CompressionMode.Decompress);
                while (true)
                {
                    if (total == buffer.Length)
                    {
                        if (buffer.Length > maxInflatedSize) break; // cap + 1 bytes produced: too large
                        int next = (int)Math.Min((long)buffer.Length * 2, (long)maxInflatedSize + 1);
                        Array.Resize(ref buffer, next);
                    }
                    int n = stream.Read(buffer, total, buffer.Length - total);
                    if (n == 0) break;
                    total += n;
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            error = TlError.BadGzip;
            return false;
        }
        if (total > maxInflatedSize)
        {
            error = TlError.GzipTooLarge;
            return false;
        }
        // GZipStream does not report a stream that simply stops; the trailer check catches truncation,
        // extra members and trailing bytes.
        if ((uint)total != expectedSize || System.IO.Hashing.Crc32.HashToUInt32(buffer.AsSpan(0, total)) != expectedCrc)
        {
            error = TlError.BadGzip;
            return false;
        }
        inflated = buffer.AsMemory(0, total);
        error = TlError.None;
        return true;
    }

    /// <summary>
    /// Reads gzip_packed (constructor id included) and inflates it. On success <paramref name="inflated"/>
    /// holds the inner boxed object.
    /// </summary>
    public static bool TryReadInflated(ref TlReader r, int maxInflatedSize, out ReadOnlyMemory<byte> inflated)
    {
        inflated = default;
        if (!r.ExpectConstructor(ConstructorIds.GzipPacked)) return false;
        var packed = r.ReadBytes();
        if (!r.Ok) return false;
        if (!TryInflate(packed, maxInflatedSize, out inflated, out var error))
        {
            r.Fail(error);
            return false;
        }
        return true;
    }

    internal static GzipPacked ReadBody(ref TlReader r)
    {
        var packed = r.ReadBytes();
        return new GzipPacked(r.Ok ? Seq.Copy(packed) : []);
    }

    public bool Equals(GzipPacked? other) => other is not null && Seq.Equal(PackedData, other.PackedData);
    public override int GetHashCode() => Seq.Hash(PackedData);
}
