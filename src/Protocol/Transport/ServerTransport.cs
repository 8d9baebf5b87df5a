using System.Buffers;
using System.Buffers.Binary;

namespace MtActors.Protocol.Transport;

/// <summary>
/// The server side of a connection. It starts undetected and recognises the transport from the first
/// bytes (spec §7.1): 0xef abridged, ee ee ee ee intermediate, dd dd dd dd padded intermediate, bytes
/// 4..8 zero full, an HTTP verb or the fake-TLS start refused with a typed error, anything else a
/// 64-byte obfuscated init whose decrypted tag must name abridged or (padded) intermediate.
/// </summary>
public sealed class ServerTransport : TransportCodec
{
    internal const uint HeadVerb = 0x44414548;    // "HEAD"
    internal const uint PostVerb = 0x54534F50;    // "POST"
    internal const uint GetVerb = 0x20544547;     // "GET "
    internal const uint OptionsVerb = 0x4954504F; // "OPTI"
    internal const uint FakeTlsStart = 0x02010316; // 16 03 01 02

    public ServerTransport(TransportOptions? options = null) : base(options, isServer: true) { }

    /// <summary>The DC id from an obfuscated init (int16 at 60..62, used by MTProxy), else 0.</summary>
    public short DcId { get; private set; }

    private protected override bool TryDetect(ref ReadOnlySequence<byte> buffer, out TransportError error)
    {
        error = TransportError.None;
        if (buffer.IsEmpty) return false;
        if (buffer.FirstSpan[0] == 0xEF)
        {
            buffer = buffer.Slice(1);
            Use(TransportKind.Abridged);
            return true;
        }
        Span<byte> head = stackalloc byte[Obfuscation.InitLength];
        if (buffer.Length < 4) return false;
        buffer.Slice(0, 4).CopyTo(head);
        switch (BinaryPrimitives.ReadUInt32LittleEndian(head))
        {
            case 0xEEEEEEEEu:
                buffer = buffer.Slice(4);
                Use(TransportKind.Intermediate);
                return true;
            case 0xDDDDDDDDu:
                buffer = buffer.Slice(4);
                Use(TransportKind.PaddedIntermediate);
                return true;
            case HeadVerb or PostVerb or GetVerb or OptionsVerb:
                error = TransportError.HttpNotSupported;
                return true;
            case FakeTlsStart:
                error = TransportError.FakeTlsNotSupported;
                return true;
        }
        if (buffer.Length < 8) return false;
        buffer.Slice(0, 8).CopyTo(head);
        if (BinaryPrimitives.ReadUInt32LittleEndian(head[4..]) == 0)
        {
            Use(TransportKind.Full); // the first int is the first frame's length: consume nothing
            return true;
        }
        if (buffer.Length < Obfuscation.InitLength) return false;
        buffer.Slice(0, Obfuscation.InitLength).CopyTo(head);
        var (read, write) = Obfuscation.CreateStreams(head, Options.ObfuscationSecret);
        read.Transform(head);
        TransportKind? kind = BinaryPrimitives.ReadUInt32LittleEndian(head[56..]) switch
        {
            0xEFEFEFEFu => TransportKind.Abridged,
            0xEEEEEEEEu => TransportKind.Intermediate,
            0xDDDDDDDDu => TransportKind.PaddedIntermediate,
            _ => null,
        };
        short dc = BinaryPrimitives.ReadInt16LittleEndian(head[60..]);
        head.Clear();
        if (kind is null)
        {
            read.Dispose();
            write.Dispose();
            error = TransportError.BadObfuscationTag;
            return true;
        }
        buffer = buffer.Slice(Obfuscation.InitLength);
        ReadCtr = read;
        WriteCtr = write;
        DcId = dc;
        Use(kind.Value);
        return true;
    }

    private void Use(TransportKind kind)
    {
        // Separate instances: the full transport keeps one sequence counter per direction.
        WriteFramingOrNull = Framing.Create(kind, isServer: true, Options.MaxPayloadLength);
        ReadFraming = Framing.Create(kind, isServer: true, Options.MaxPayloadLength);
    }
}
