using System.Collections.Immutable;
using MtActors.Protocol.Schema;

namespace MtActors.Protocol.Tests.Schema;

/// <summary>One instance of every service-schema constructor, for round trips and malformed-input sweeps.</summary>
internal static class Samples
{
    public static readonly byte[] PingBody = new Ping(0x2122232425262728).ToBytes();

    public static IReadOnlyList<TlObject> All() =>
    [
        new RpcResult(0x65ABC0FC00000004, [.. PingBody]),
        new RpcError(420, "FLOOD_WAIT_3"),
        new RpcDropAnswer(0x65ABC0FC00000008),
        RpcAnswerUnknown.Instance,
        RpcAnswerDroppedRunning.Instance,
        new RpcAnswerDropped(0x65ABC0FC00000401, 7, 1024),
        new GetFutureSalts(64),
        new FutureSalts(0x65ABC0FC0000000C, 1705754877, [new FutureSalt(1705754877, 1705756677, 0x1122334455667788), new FutureSalt(1705756677, 1705758477, -5)]),
        new FutureSalts(1, 2, []),
        new Ping(0x2122232425262728),
        new PingDelayDisconnect(-1, 75),
        new Pong(0x65ABC0FC00000004, 0x2122232425262728),
        new DestroySession(0x1112131415161718),
        new DestroySessionOk(0x1112131415161718),
        new DestroySessionNone(-0x1112131415161718),
        new NewSessionCreated(0x5e308b91ad33fdc4, 0x1658EE07A68EA818, unchecked((long)0xFD288B24026A82FC)),
        DestroyAuthKey.Instance,
        DestroyAuthKeyOk.Instance,
        DestroyAuthKeyNone.Instance,
        DestroyAuthKeyFail.Instance,
        new MsgContainer([new ContainerMessage(0x10, 1, [.. PingBody]), new ContainerMessage(0x14, 2, [.. new MsgsAck([1, 2]).ToBytes()])]),
        new MsgContainer([]),
        new MsgCopy(new ContainerMessage(0x20, 3, [.. PingBody])),
        GzipPacked.Pack(PingBody),
        new MsgsAck([0x65ABC0FC00000401, 0x65ABC0FC00000405]),
        new MsgsAck([]),
        new BadMsgNotification(0x65ABC0FC00000004, 3, 16),
        new BadServerSalt(0x65ABC0FC00000004, 3, 48, 0x0102030405060708),
        new MsgResendReq([5, 6, 7]),
        new MsgsStateReq([0x65ABC0FC00000004]),
        new MsgsStateInfo(0x65ABC0FC00000008, [4, 1, 2, 3]),
        new MsgsAllInfo([1, 2, 3], [4, 4, 12]),
        new MsgDetailedInfo(0x65ABC0FC00000004, 0x65ABC0FC00000401, 1000, 0),
        new MsgNewDetailedInfo(0x65ABC0FC00000405, 2000, 0),
        new HttpWait(0, 0, 25000),
    ];

    /// <summary>Every constructor id of <see cref="ConstructorIds"/> that <see cref="ServiceSchema.TryRead(ref Tl.TlReader, out TlObject?)"/> reads.</summary>
    public static ImmutableHashSet<uint> Ids() => All().Select(o => o.ConstructorId).ToImmutableHashSet();
}
