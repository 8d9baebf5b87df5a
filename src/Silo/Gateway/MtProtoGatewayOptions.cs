using System.Net;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Transport;

namespace MtActors.Silo.Gateway;

/// <summary>
/// The MTProto TCP endpoint of a silo (configuration section <c>MtActors:MtProto</c> in the silo host). Every value is
/// checked at start by <see cref="Check"/>; limits come with a defined reaction (see each property).
/// </summary>
public sealed class MtProtoGatewayOptions
{
    /// <summary>Configuration section in the silo host.</summary>
    public const string SectionName = "MtActors:MtProto";

    /// <summary>Default port (before the silo host's instance offset): one of the ports Telegram's own DCs answer on.</summary>
    public const int DefaultPort = 5222;

    /// <summary>False: no MTProto endpoint on this silo.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Address to listen on. Default loopback; 0.0.0.0 (or ::) serves other machines.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>TCP port. The silo host adds its instance offset (instance 2 listens on 5223); 0 picks a free port.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>
    /// The DC id clients give this server (p_q_inner_data_dc); default 2. A client naming another DC gets -444 during
    /// the key exchange unless <see cref="EnforceDcId"/> is off. Test-mode clients add 10000; media DCs negate it.
    /// </summary>
    public int DcId { get; set; } = 2;

    /// <summary>Refuse (-444) a key exchange that names another DC. Default on.</summary>
    public bool EnforceDcId { get; set; } = true;

    /// <summary>
    /// PEM files of the server's RSA-2048 private keys (PKCS#1 or PKCS#8). All are advertised; any may be used (rotation:
    /// add the new key, hand it to clients, later remove the old one). Empty: a key generated on the first run and
    /// kept in <see cref="KeyDirectory"/> (the silo host uses &lt;data directory&gt;/mtproto).
    /// </summary>
    public List<string> RsaKeyFiles { get; set; } = [];

    /// <summary>Where the generated key and the public-key file for <c>mtactors rsa-key</c> live. Set by the silo host.</summary>
    public string? KeyDirectory { get; set; }

    /// <summary>
    /// Largest transport frame payload in bytes (default 1 MiB; upload parts are at most 512 KiB). A frame header
    /// announcing more closes the connection before anything is buffered.
    /// </summary>
    public int MaxFrameSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Seconds a connection has to send its first frame, and a started key exchange to finish (default 30). Past it the
    /// connection is closed.
    /// </summary>
    public int HandshakeTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds without any frame from the client before the connection is closed (default 180; clients ping every
    /// 60 s or less).
    /// </summary>
    public int IdleTimeoutSeconds { get; set; } = 180;

    /// <summary>Open connections per silo (default 10000). One more is answered -429 and closed.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>
    /// Key exchanges in progress per silo (default 256; each costs an RSA decryption and two 2048-bit modular
    /// exponentiations). A connection starting one more is answered -429 and closed.
    /// </summary>
    public int MaxHandshakesInFlight { get; set; } = 256;

    /// <summary>
    /// Decrypted frames of one connection waiting for their session grain (default 16), in the queue and again in the
    /// sessions' lanes. Each session's frames are processed in order (those already queued for it go in one grain call),
    /// sessions independently; past this bound the gateway stops reading the socket (TCP back-pressure), nothing is dropped.
    /// </summary>
    public int MaxPendingFrames { get; set; } = 16;

    /// <summary>Seconds a stopping silo waits for its connections to close (default 10).</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 10;

    /// <summary>The parsed listen address (valid after <see cref="Check"/>).</summary>
    public IPAddress ListenAddress => IPAddress.Parse(Address);

    /// <summary>Appends one message per invalid setting to <paramref name="errors"/>, names prefixed with <paramref name="prefix"/>.</summary>
    public void Check(string prefix, List<string> errors, int portOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!Enabled)
        {
            return;
        }

        if (!IPAddress.TryParse(Address, out _))
        {
            errors.Add($"{prefix}:Address must be an IP address (got '{Address}').");
        }

        if (Port != 0 && (Port is < 1 or > 65535 || Port + portOffset > 65535))
        {
            errors.Add($"{prefix}:Port must be 1..65535 after the instance offset, or 0 for a free port (got {Port + portOffset}).");
        }

        if (DcId == 0 || Math.Abs((long)DcId) > short.MaxValue)
        {
            errors.Add($"{prefix}:DcId must be a non-zero DC number of at most {short.MaxValue} (got {DcId}).");
        }

        for (var i = 0; i < RsaKeyFiles.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(RsaKeyFiles[i]))
            {
                errors.Add($"{prefix}:RsaKeyFiles:{i} is empty.");
            }
        }

        if (MaxFrameSize is < 1024 or > 16 * 1024 * 1024)
        {
            errors.Add($"{prefix}:MaxFrameSize must be 1024..16777216 bytes (got {MaxFrameSize}).");
        }

        CheckRange(errors, $"{prefix}:HandshakeTimeoutSeconds", HandshakeTimeoutSeconds, 1, 3600);
        CheckRange(errors, $"{prefix}:IdleTimeoutSeconds", IdleTimeoutSeconds, 1, 86400);
        CheckRange(errors, $"{prefix}:MaxConnections", MaxConnections, 1, 1_000_000);
        CheckRange(errors, $"{prefix}:MaxHandshakesInFlight", MaxHandshakesInFlight, 1, 100_000);
        CheckRange(errors, $"{prefix}:MaxPendingFrames", MaxPendingFrames, 1, 1024);
        CheckRange(errors, $"{prefix}:ShutdownTimeoutSeconds", ShutdownTimeoutSeconds, 1, 600);
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every invalid setting.</summary>
    public void Validate(string prefix = SectionName)
    {
        var errors = new List<string>();
        Check(prefix, errors);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors));
        }
    }

    internal TransportOptions ToTransportOptions() => new() { MaxPayloadLength = MaxFrameSize };

    internal ServerHandshakeOptions ToHandshakeOptions() => new() { DcId = DcId, EnforceDcId = EnforceDcId };

    private static void CheckRange(List<string> errors, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{name} must be {min}..{max} (got {value}).");
        }
    }
}
