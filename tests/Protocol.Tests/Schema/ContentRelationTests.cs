using MtActors.Protocol.Schema;

namespace MtActors.Protocol.Tests.Schema;

public class ContentRelationTests
{
    [Theory]
    [InlineData(ConstructorIds.MsgsAck, SeqNoParity.Even)]
    [InlineData(ConstructorIds.MsgContainer, SeqNoParity.Even)]
    [InlineData(ConstructorIds.MsgCopy, SeqNoParity.Even)]
    [InlineData(ConstructorIds.GzipPacked, SeqNoParity.Even)]
    [InlineData(ConstructorIds.Ping, SeqNoParity.Either)]
    [InlineData(ConstructorIds.PingDelayDisconnect, SeqNoParity.Either)]
    [InlineData(ConstructorIds.GetFutureSalts, SeqNoParity.Either)]
    [InlineData(ConstructorIds.DestroySession, SeqNoParity.Either)]
    [InlineData(ConstructorIds.DestroyAuthKey, SeqNoParity.Either)]
    [InlineData(ConstructorIds.RpcDropAnswer, SeqNoParity.Either)]
    [InlineData(ConstructorIds.MsgsStateReq, SeqNoParity.Either)]
    [InlineData(ConstructorIds.MsgResendReq, SeqNoParity.Either)]
    [InlineData(ConstructorIds.HttpWait, SeqNoParity.Either)]
    [InlineData(ConstructorIds.MsgsStateInfo, SeqNoParity.Either)]
    [InlineData(0xc4f9186bu, SeqNoParity.Odd)] // help.getConfig
    [InlineData(ConstructorIds.InvokeWithLayer, SeqNoParity.Odd)] // an API wrapper, should be unwrapped first
    public void Client_parity(uint id, SeqNoParity expected) => Assert.Equal(expected, ContentRelation.ExpectedFromClient(id));

    [Theory]
    [InlineData(ConstructorIds.RpcResult, true)]
    [InlineData(ConstructorIds.NewSessionCreated, true)]
    [InlineData(0x74ae4240u, true)] // updates#74ae4240
    [InlineData(ConstructorIds.Pong, false)]
    [InlineData(ConstructorIds.MsgsAck, false)]
    [InlineData(ConstructorIds.MsgContainer, false)]
    [InlineData(ConstructorIds.BadMsgNotification, false)]
    [InlineData(ConstructorIds.BadServerSalt, false)]
    [InlineData(ConstructorIds.FutureSalts, false)]
    [InlineData(ConstructorIds.MsgsStateInfo, false)]
    [InlineData(ConstructorIds.MsgsAllInfo, false)]
    [InlineData(ConstructorIds.MsgDetailedInfo, false)]
    [InlineData(ConstructorIds.MsgNewDetailedInfo, false)]
    [InlineData(ConstructorIds.DestroySessionOk, false)]
    [InlineData(ConstructorIds.DestroySessionNone, false)]
    [InlineData(ConstructorIds.DestroyAuthKeyOk, false)]
    [InlineData(ConstructorIds.DestroyAuthKeyFail, false)]
    public void Server_parity(uint id, bool contentRelated) => Assert.Equal(contentRelated, ContentRelation.IsContentRelatedFromServer(id));
}
