using MtActors.Protocol.Transport;

namespace MtActors.Protocol.Client;

/// <summary>How a <see cref="MtProtoConnection"/> talks to the server. Checked by <see cref="Validate"/> on connect.</summary>
public sealed class MtProtoConnectionOptions
{
    /// <summary>Framing (default intermediate).</summary>
    public TransportKind Transport { get; set; } = TransportKind.Intermediate;

    /// <summary>Wrap the framing in AES-256-CTR obfuscation (not with <see cref="TransportKind.Full"/>).</summary>
    public bool Obfuscated { get; set; }

    /// <summary>DC id written into the obfuscated init (MTProxy); 0 = none.</summary>
    public short ObfuscationDcId { get; set; }

    /// <summary>Optional 16-byte MTProxy secret for obfuscation.</summary>
    public byte[]? ObfuscationSecret { get; set; }

    /// <summary>Largest frame payload accepted from the server (default 4 MiB).</summary>
    public int MaxFramePayload { get; set; } = 4 << 20;

    /// <summary>Time allowed for the TCP connect (default 10 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time allowed for each step of a key exchange (default 30 s).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (!Enum.IsDefined(Transport)) throw new ArgumentOutOfRangeException(nameof(Transport));
        if (Obfuscated && Transport == TransportKind.Full) throw new ArgumentException("The full transport has no obfuscated form.", nameof(Obfuscated));
        if (ObfuscationSecret is { Length: not 16 }) throw new ArgumentException("The obfuscation secret is 16 bytes.", nameof(ObfuscationSecret));
        if (MaxFramePayload is < 1024 or > TransportOptions.AbridgedMaxPayload) throw new ArgumentOutOfRangeException(nameof(MaxFramePayload));
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ConnectTimeout));
        if (HandshakeTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout));
    }
}

/// <summary>Behaviour of one <see cref="MtProtoSession"/>.</summary>
public sealed class MtProtoSessionOptions
{
    /// <summary>Session id; null picks a random non-zero one.</summary>
    public long? SessionId { get; set; }

    /// <summary>Default time limit of every call (default 30 s).</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Pending acknowledgements are sent alone after this delay when no other message carries them (default 50 ms).</summary>
    public TimeSpan AckDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Pending acknowledgements that trigger an immediate msgs_ack (default 64).</summary>
    public int MaxPendingAcks { get; set; } = 64;

    /// <summary>Put pending acknowledgements in a container with the next outgoing message (default on, as tdlib does).</summary>
    public bool PiggybackAcks { get; set; } = true;

    /// <summary>Answer bad_server_salt, bad_msg 16/17 and new_session_created by re-sending the refused messages (default on).</summary>
    public bool AutoResend { get; set; } = true;

    /// <summary>Re-sends of one message before it fails (default 5).</summary>
    public int MaxResends { get; set; } = 5;

    /// <summary>Received messages kept for <see cref="MtProtoSession.WaitForMessageAsync"/> (default 256; 0 keeps none).</summary>
    public int HistorySize { get; set; } = 256;

    public void Validate()
    {
        if (SessionId == 0) throw new ArgumentOutOfRangeException(nameof(SessionId), "A session id is non-zero.");
        if (CallTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CallTimeout));
        if (AckDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(AckDelay));
        if (MaxPendingAcks is < 1 or > 8192) throw new ArgumentOutOfRangeException(nameof(MaxPendingAcks));
        if (MaxResends is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(MaxResends));
        if (HistorySize is < 0 or > 65536) throw new ArgumentOutOfRangeException(nameof(HistorySize));
    }
}
