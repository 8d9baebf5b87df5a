using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MtActors.Protocol.Transport;

/// <summary>
/// The client side of a connection (test client, load generator). The transport's opening bytes (the
/// tag, or the 64-byte obfuscated init) are sent in front of the first frame written, so the first
/// write carries both; <see cref="WritePreamble"/> sends them alone if wanted.
/// </summary>
public sealed class ClientTransport : TransportCodec
{
    /// <param name="kind">The framing; <see cref="TransportKind.Full"/> cannot be obfuscated.</param>
    /// <param name="obfuscated">Wrap the framing in AES-256-CTR obfuscation (64-byte init).</param>
    /// <param name="options">Limits and the optional MTProxy secret.</param>
    /// <param name="dcId">DC id written into the obfuscated init (MTProxy), 0 when unused.</param>
    public ClientTransport(TransportKind kind, bool obfuscated = false, TransportOptions? options = null, short dcId = 0)
        : base(options, isServer: false)
    {
        if (obfuscated && kind == TransportKind.Full) throw new ArgumentException("The full transport has no obfuscated form.", nameof(kind));
        ReadFraming = Framing.Create(kind, isServer: false, Options.MaxPayloadLength);
        WriteFramingOrNull = Framing.Create(kind, isServer: false, Options.MaxPayloadLength);
        if (!obfuscated)
        {
            PendingPreamble = kind switch
            {
                TransportKind.Abridged => [0xEF],
                TransportKind.Intermediate => [0xEE, 0xEE, 0xEE, 0xEE],
                TransportKind.PaddedIntermediate => [0xDD, 0xDD, 0xDD, 0xDD],
                _ => null,
            };
            return;
        }
        Span<byte> init = stackalloc byte[Obfuscation.InitLength];
        do RandomNumberGenerator.Fill(init);
        while (Obfuscation.IsAmbiguous(init));
        BinaryPrimitives.WriteUInt32LittleEndian(init[56..], Framing.Tag(kind));
        BinaryPrimitives.WriteInt16LittleEndian(init[60..], dcId);
        var (send, receive) = Obfuscation.CreateStreams(init, Options.ObfuscationSecret);
        Span<byte> encrypted = stackalloc byte[Obfuscation.InitLength];
        send.Transform(init, encrypted);
        // On the wire: plain bytes 0..56 (they carry the keys), encrypted bytes 56..64 (tag, dc, random).
        encrypted[..56].Clear();
        init[..56].CopyTo(encrypted);
        PendingPreamble = encrypted.ToArray();
        init.Clear();
        WriteCtr = send;
        ReadCtr = receive;
    }

    /// <summary>Writes the opening bytes if they have not been sent yet; returns the bytes written.</summary>
    public int WritePreamble(IBufferWriter<byte> output)
    {
        if (PendingPreamble is null) return 0;
        int length = PendingPreamble.Length;
        output.Write(PendingPreamble);
        PendingPreamble = null;
        return length;
    }
}
