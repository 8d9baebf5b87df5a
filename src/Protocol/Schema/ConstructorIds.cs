namespace MtActors.Protocol.Schema;

/// <summary>
/// Constructor ids of the MTProto session-layer service schema (spec.md §3) and of the API wrappers the
/// server unwraps. Each id is the CRC32 of the normalized combinator line. The auth-key creation
/// constructors live with the handshake code.
/// </summary>
public static class ConstructorIds
{
    // TL basics
    public const uint Vector = 0x1cb5c415;
    public const uint BoolTrue = 0x997275b5;
    public const uint BoolFalse = 0xbc799737;

    // RPC results and errors
    public const uint RpcResult = 0xf35c6d01;
    public const uint RpcError = 0x2144ca19;
    public const uint RpcDropAnswer = 0x58e4a740;
    public const uint RpcAnswerUnknown = 0x5e2ad36e;
    public const uint RpcAnswerDroppedRunning = 0xcd78e586;
    public const uint RpcAnswerDropped = 0xa43ad8b7;

    // Salts
    public const uint GetFutureSalts = 0xb921bd04;
    /// <summary>future_salt; always bare inside future_salts, so this id never appears on the wire.</summary>
    public const uint FutureSalt = 0x0949d9dc;
    public const uint FutureSalts = 0xae500895;

    // Ping
    public const uint Ping = 0x7abe77ec;
    public const uint PingDelayDisconnect = 0xf3427b8c;
    public const uint Pong = 0x347773c5;

    // Sessions and keys
    public const uint DestroySession = 0xe7512126;
    public const uint DestroySessionOk = 0xe22045fc;
    public const uint DestroySessionNone = 0x62d350c9;
    public const uint NewSessionCreated = 0x9ec20908;
    public const uint DestroyAuthKey = 0xd1435160;
    public const uint DestroyAuthKeyOk = 0xf660e1d4;
    public const uint DestroyAuthKeyNone = 0x0a9f2259;
    public const uint DestroyAuthKeyFail = 0xea109b13;

    // Containers and packing
    public const uint MsgContainer = 0x73f1f8dc;
    /// <summary>message (the boxed form of %Message); bare inside containers, boxed only inside msg_copy.</summary>
    public const uint Message = 0x5bb8e511;
    public const uint MsgCopy = 0xe06046b2;
    public const uint GzipPacked = 0x3072cfa1;

    // Acknowledgements and message state
    public const uint MsgsAck = 0x62d6b459;
    public const uint BadMsgNotification = 0xa7eff811;
    public const uint BadServerSalt = 0xedab447b;
    public const uint MsgResendReq = 0x7d861a08;
    public const uint MsgsStateReq = 0xda69fb52;
    public const uint MsgsStateInfo = 0x04deb57d;
    public const uint MsgsAllInfo = 0x8cc0d131;
    public const uint MsgDetailedInfo = 0x276d3ec6;
    public const uint MsgNewDetailedInfo = 0x809db6df;
    public const uint HttpWait = 0x9299359f;

    // API wrappers (telegram_api.tl) the server peels before dispatch
    public const uint InvokeAfterMsg = 0xcb9f372d;
    public const uint InvokeAfterMsgs = 0x3dc4b4f0;
    public const uint InitConnection = 0xc1cd5ea9;
    public const uint InvokeWithLayer = 0xda9b0d0d;
    public const uint InvokeWithoutUpdates = 0xbf9459b7;
    public const uint InvokeWithMessagesRange = 0x365275f2;
    public const uint InvokeWithTakeout = 0xaca9fd2e;
    public const uint MessageRange = 0x0ae30253;
    public const uint InputClientProxy = 0x75588b3f;

    // JSONValue (initConnection params)
    public const uint JsonNull = 0x3f6d7b68;
    public const uint JsonBool = 0xc7345e6a;
    public const uint JsonNumber = 0x2be0dfa4;
    public const uint JsonString = 0xb71e767a;
    public const uint JsonArray = 0xf7444763;
    public const uint JsonObject = 0x99c1d49d;
    public const uint JsonObjectValue = 0xc0de1bd9;
}
