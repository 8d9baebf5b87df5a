using System.Buffers;
using System.IO.Pipelines;
using MtActors.Protocol.Transport;

namespace MtActors.Protocol.Tests.Transport;

/// <summary>Every transport, both directions, fed whole, in random chunks, byte by byte and across segments.</summary>
public sealed class RoundTripTests
{
    public static TheoryData<TransportKind, bool> Variants => new()
    {
        { TransportKind.Abridged, false }, { TransportKind.Intermediate, false },
        { TransportKind.PaddedIntermediate, false }, { TransportKind.Full, false },
        { TransportKind.Abridged, true }, { TransportKind.Intermediate, true },
        { TransportKind.PaddedIntermediate, true },
    };

    private sealed record Sent(byte[] Payload, bool QuickAck, uint? AckToken);

    private static void AssertMatches(TransportKind kind, List<Sent> expected, List<ReadItem> got)
    {
        Assert.Equal(expected.Count, got.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Sent e = expected[i];
            ReadItem g = got[i];
            if (e.AckToken is uint token)
            {
                Assert.Equal(TransportFrameKind.QuickAck, g.Kind);
                Assert.Equal(token, g.QuickAckToken);
                continue;
            }
            Assert.Equal(TransportFrameKind.Payload, g.Kind);
            Assert.Equal(e.QuickAck, g.QuickAckRequested);
            if (kind == TransportKind.PaddedIntermediate)
            {
                Assert.InRange(g.Payload.Length - e.Payload.Length, 0, 15);
                Assert.Equal(e.Payload, g.Payload[..e.Payload.Length]);
            }
            else
            {
                Assert.Equal(e.Payload, g.Payload);
            }
        }
    }

    [Theory, MemberData(nameof(Variants))]
    public void Both_directions_in_one_piece_random_chunks_and_byte_by_byte(TransportKind kind, bool obfuscated)
    {
        for (int mode = 0; mode < 4; mode++)
        {
            var rng = new Random(mode * 31 + (int)kind);
            using var client = new ClientTransport(kind, obfuscated);
            using var server = new ServerTransport();
            var up = new List<Sent>();
            var down = new List<Sent>();
            var upWriter = new ArrayBufferWriter<byte>();
            var downWriter = new ArrayBufferWriter<byte>();
            var serverFeeder = new Feeder(server);
            var clientFeeder = new Feeder(client);
            Func<int> chunk = mode switch
            {
                0 => () => int.MaxValue,
                1 => () => 1,
                2 => () => rng.Next(1, 64),
                _ => () => rng.Next(1, 5000),
            };

            for (int round = 0; round < 12; round++)
            {
                upWriter.ResetWrittenCount();
                for (int i = 0; i < 3; i++)
                {
                    byte[] payload = new byte[4 * rng.Next(1, round % 4 == 0 ? 1500 : 30)];
                    rng.NextBytes(payload);
                    bool ack = client.SupportsQuickAck && rng.Next(3) == 0;
                    client.WriteFrame(payload, upWriter, ack);
                    up.Add(new Sent(payload, ack, null));
                }
                serverFeeder.FeedInChunks(upWriter.WrittenSpan.ToArray(), chunk);

                downWriter.ResetWrittenCount();
                for (int i = 0; i < 3; i++)
                {
                    if (server.SupportsQuickAck && rng.Next(3) == 0)
                    {
                        uint token = 0x80000000u | (uint)rng.Next();
                        Assert.True(server.TryWriteQuickAck(token, downWriter));
                        down.Add(new Sent([], false, token));
                    }
                    byte[] payload = new byte[4 * rng.Next(1, round % 3 == 0 ? 1200 : 25)];
                    rng.NextBytes(payload);
                    server.WriteFrame(payload, downWriter);
                    down.Add(new Sent(payload, false, null));
                }
                clientFeeder.FeedInChunks(downWriter.WrittenSpan.ToArray(), chunk);
            }

            Assert.Equal(kind, server.Kind);
            Assert.Equal(obfuscated, server.IsObfuscated);
            AssertMatches(kind, up, serverFeeder.Items);
            AssertMatches(kind, down, clientFeeder.Items);
            Assert.Equal(TransportError.None, server.Error);
            Assert.Equal(TransportError.None, client.Error);
            if (!obfuscated) Assert.Equal(0, serverFeeder.Unconsumed);
        }
    }

    [Theory, MemberData(nameof(Variants))]
    public void Multi_segment_sequences_parse_like_contiguous_ones(TransportKind kind, bool obfuscated)
    {
        var rng = new Random(99);
        using var client = new ClientTransport(kind, obfuscated);
        using var server = new ServerTransport();
        var writer = new ArrayBufferWriter<byte>();
        var sent = new List<Sent>();
        for (int i = 0; i < 20; i++)
        {
            byte[] payload = new byte[4 * rng.Next(1, 300)];
            rng.NextBytes(payload);
            client.WriteFrame(payload, writer);
            sent.Add(new Sent(payload, false, null));
        }
        byte[] bytes = writer.WrittenSpan.ToArray();
        int[] cuts = Enumerable.Range(0, 60).Select(_ => rng.Next(1, bytes.Length)).ToArray();
        var feeder = new Feeder(server);
        feeder.Feed(bytes, cuts);
        AssertMatches(kind, sent, feeder.Items);
    }

    [Theory, MemberData(nameof(Variants))]
    public async Task Works_on_a_real_pipe(TransportKind kind, bool obfuscated)
    {
        var rng = new Random(3);
        using var client = new ClientTransport(kind, obfuscated);
        using var server = new ServerTransport();
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 512, pauseWriterThreshold: 0));
        var sent = new List<byte[]>();
        for (int i = 0; i < 40; i++)
        {
            byte[] payload = new byte[4 * rng.Next(1, 700)];
            rng.NextBytes(payload);
            sent.Add(payload);
            client.WriteFrame(payload, pipe.Writer); // one contiguous block per frame
            if (i % 3 == 0) await pipe.Writer.FlushAsync();
        }
        await pipe.Writer.CompleteAsync();

        var received = new List<byte[]>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            ReadResult result = await pipe.Reader.ReadAsync(timeout.Token);
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (server.TryReadFrame(ref buffer, out TransportFrame frame))
            {
                Assert.Equal(TransportFrameKind.Payload, frame.Kind);
                received.Add(frame.Payload.ToArray());
            }
            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) break;
        }
        await pipe.Reader.CompleteAsync();
        Assert.Equal(sent.Count, received.Count);
        for (int i = 0; i < sent.Count; i++) Assert.Equal(sent[i], received[i][..sent[i].Length]);
    }
}
