using System.Buffers;
using MtActors.Protocol.Transport;

namespace MtActors.Protocol.Tests.Transport;

/// <summary>What a test saw from a reader: a copied payload, a quick ack or an error.</summary>
internal sealed record ReadItem(TransportFrameKind Kind, byte[] Payload, bool QuickAckRequested, uint QuickAckToken, TransportError Error);

/// <summary>
/// Drives a codec the way a PipeReader loop does: bytes arrive in chunks, the reader sees everything
/// not yet consumed, and what <c>TryReadFrame</c> leaves is offered again with the next chunk.
/// </summary>
internal sealed class Feeder(TransportCodec codec)
{
    private byte[] _pending = [];
    public List<ReadItem> Items { get; } = [];

    public int Unconsumed => _pending.Length;

    public void Feed(ReadOnlySpan<byte> bytes, int[]? cuts = null)
    {
        _pending = [.. _pending, .. bytes];
        var buffer = cuts is null ? new ReadOnlySequence<byte>(_pending) : TestSequence.Create(_pending, cuts.Where(c => c > 0 && c < _pending.Length).Distinct().Order().ToArray());
        long before = buffer.Length;
        int guard = 0;
        while (codec.TryReadFrame(ref buffer, out TransportFrame frame))
        {
            Items.Add(new ReadItem(frame.Kind, frame.Payload.ToArray(), frame.QuickAckRequested, frame.QuickAckToken, frame.Error));
            Assert.True(++guard < 100_000, "reader did not stop");
        }
        long consumed = before - buffer.Length;
        Assert.InRange(consumed, 0, before);
        _pending = _pending[(int)consumed..];
    }

    public void FeedInChunks(byte[] bytes, Func<int> chunkSize)
    {
        int off = 0;
        while (off < bytes.Length)
        {
            int n = Math.Min(Math.Max(1, chunkSize()), bytes.Length - off);
            Feed(bytes.AsSpan(off, n));
            off += n;
        }
    }

    public static List<ReadItem> ReadAll(TransportCodec codec, byte[] bytes, int chunk = int.MaxValue)
    {
        var feeder = new Feeder(codec);
        feeder.FeedInChunks(bytes, () => chunk);
        return feeder.Items;
    }
}
