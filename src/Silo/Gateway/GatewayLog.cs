using System.Net;
using Microsoft.Extensions.Logging;

namespace MtActors.Silo.Gateway;

/// <summary>The gateway's log messages (one template each; never key material).</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
        Message = "MTProto gateway listening on {EndPoint} (DC {DcId}, RSA fingerprints {Fingerprints})")]
    public static partial void Listening(this ILogger logger, EndPoint endPoint, int dcId, string fingerprints);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information,
        Message = "MTProto gateway on {EndPoint} stopped; {Connections} connections closed")]
    public static partial void Stopped(this ILogger logger, EndPoint? endPoint, int connections);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning,
        Message = "MTProto gateway: {Connections} connections still open after {Seconds} s of shutdown; aborting them")]
    public static partial void ShutdownAborting(this ILogger logger, int connections, int seconds);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "MTProto gateway: accepting a connection failed")]
    public static partial void AcceptFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} from {RemoteEndPoint} opened")]
    public static partial void ConnectionOpened(this ILogger logger, long connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} ({Transport}) closed: {Reason}; {FramesIn} frames in, {FramesOut} out, {Seconds:F1} s")]
    public static partial void ConnectionClosed(this ILogger logger, long connectionId, string transport, string reason,
        long framesIn, long framesOut, double seconds);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Error,
        Message = "Connection {ConnectionId}: unexpected error; the connection is closed")]
    public static partial void ConnectionFailed(this ILogger logger, Exception exception, long connectionId);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Information,
        Message = "Connection {ConnectionId}: bad transport stream ({Error}); closed")]
    public static partial void TransportRefused(this ILogger logger, long connectionId, string error);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} refused with -429: {Limit} limit of {Max} reached")]
    public static partial void LimitReached(this ILogger logger, long connectionId, string limit, int max);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Information,
        Message = "Connection {ConnectionId} closed: {Timeout} timeout ({Seconds} s)")]
    public static partial void TimedOut(this ILogger logger, long connectionId, string timeout, double seconds);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId}: key exchange refused with {TransportError} ({Reason})")]
    public static partial void HandshakeRefused(this ILogger logger, long connectionId, int transportError, string reason);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId}: auth key {AuthKeyId} created ({Kind}, expires {ExpiresAt})")]
    public static partial void KeyCreated(this ILogger logger, long connectionId, long authKeyId, string kind, DateTimeOffset? expiresAt);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId}: auth key {AuthKeyId} not stored ({Result}); answered {Answer}")]
    public static partial void KeyRejected(this ILogger logger, long connectionId, long authKeyId, string result, string answer);

    [LoggerMessage(EventId = 4023, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId}: agreed key would be 255 bytes for the client; asked for another (dh_gen_retry)")]
    public static partial void ShortKeyRetry(this ILogger logger, long connectionId);

    [LoggerMessage(EventId = 4030, Level = LogLevel.Information,
        Message = "Connection {ConnectionId}: auth key {AuthKeyId} unknown; answered -404 and closed")]
    public static partial void AuthKeyUnknown(this ILogger logger, long connectionId, long authKeyId);

    [LoggerMessage(EventId = 4031, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId}: dropped a frame of auth key {AuthKeyId} ({Error})")]
    public static partial void DecryptFailed(this ILogger logger, long connectionId, long authKeyId, string error);

    [LoggerMessage(EventId = 4032, Level = LogLevel.Information,
        Message = "Connection {ConnectionId}: auth key {AuthKeyId} destroyed by the client; closing")]
    public static partial void KeyDestroyed(this ILogger logger, long connectionId, long authKeyId);
}
