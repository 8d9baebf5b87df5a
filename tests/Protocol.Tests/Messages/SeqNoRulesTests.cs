using MtActors.Protocol.Messages;
using MtActors.Protocol.Schema;

namespace MtActors.Protocol.Tests.Messages;

public class SeqNoRulesTests
{
    [Theory]
    [InlineData(0, SeqNoParity.Even, BadMsgCode.None)]
    [InlineData(1, SeqNoParity.Even, BadMsgCode.SeqNoEvenExpected)]
    [InlineData(1, SeqNoParity.Odd, BadMsgCode.None)]
    [InlineData(2, SeqNoParity.Odd, BadMsgCode.SeqNoOddExpected)]
    [InlineData(2, SeqNoParity.Either, BadMsgCode.None)]
    [InlineData(3, SeqNoParity.Either, BadMsgCode.None)]
    public void Parity(int seqNo, SeqNoParity expected, BadMsgCode code) => Assert.Equal(code, SeqNoRules.CheckParity(seqNo, expected));

    [Fact]
    public void Client_parity_follows_the_unwrapped_constructor()
    {
        const uint getConfig = 0xc4f9186b;
        Assert.Equal(BadMsgCode.SeqNoOddExpected, SeqNoRules.CheckClientParity(4, getConfig)); // API query must be odd
        Assert.Equal(BadMsgCode.None, SeqNoRules.CheckClientParity(5, getConfig));
        Assert.Equal(BadMsgCode.SeqNoEvenExpected, SeqNoRules.CheckClientParity(5, ConstructorIds.MsgsAck));
        Assert.Equal(BadMsgCode.SeqNoEvenExpected, SeqNoRules.CheckClientParity(5, ConstructorIds.MsgContainer));
        // MTProto service calls: tdlib sends them even, Telethon odd, Android destroy_session even. All accepted.
        foreach (uint id in new[] { ConstructorIds.Ping, ConstructorIds.PingDelayDisconnect, ConstructorIds.DestroySession,
                     ConstructorIds.DestroyAuthKey, ConstructorIds.GetFutureSalts, ConstructorIds.MsgsStateReq,
                     ConstructorIds.MsgResendReq, ConstructorIds.RpcDropAnswer, ConstructorIds.HttpWait })
        {
            Assert.Equal(BadMsgCode.None, SeqNoRules.CheckClientParity(6, id));
            Assert.Equal(BadMsgCode.None, SeqNoRules.CheckClientParity(7, id));
        }
    }

    [Fact]
    public void Server_seq_no_counter()
    {
        int c = 0;
        // The real capture: new_session_created 1, pong 2, container 2.
        Assert.Equal(1, SeqNoRules.NextServerSeqNo(ref c, contentRelated: true));
        Assert.Equal(2, SeqNoRules.NextServerSeqNo(ref c, contentRelated: false));
        Assert.Equal(2, SeqNoRules.NextServerSeqNo(ref c, contentRelated: false));
        Assert.Equal(3, SeqNoRules.NextServerSeqNo(ref c, contentRelated: true));
        Assert.Equal(5, SeqNoRules.NextServerSeqNo(ref c, contentRelated: true));
        Assert.Equal(6, SeqNoRules.NextServerSeqNo(ref c, contentRelated: false));
        Assert.Equal(3, c);
    }

    [Fact]
    public void Server_numbering_passes_the_receive_rules()
    {
        // What the server numbers is what the window accepts from a client doing the same.
        var random = new Random(8);
        var window = new ReceivedMsgWindow();
        int c = 0;
        long id = 0x65ABC0FC00000000;
        for (int i = 0; i < 5000; i++)
        {
            id += 4 * random.Next(1, 100);
            int seq = SeqNoRules.NextServerSeqNo(ref c, random.Next(3) == 0);
            Assert.Equal(MsgIdCheck.New, window.TryAdd(id, seq));
        }
    }
}
