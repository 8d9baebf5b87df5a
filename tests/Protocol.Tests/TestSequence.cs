using System.Buffers;

namespace MtActors.Protocol.Tests;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s to exercise segment boundaries.</summary>
internal static class TestSequence
{
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }

    /// <summary>Splits <paramref name="data"/> at the given cut points (ascending, within the data).</summary>
    public static ReadOnlySequence<byte> Create(byte[] data, params int[] cuts)
    {
        Segment? first = null, last = null;
        int start = 0;
        foreach (int cut in cuts.Append(data.Length))
        {
            var segment = new Segment(data.AsMemory(start, cut - start), last);
            first ??= segment;
            last = segment;
            start = cut;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }
}
