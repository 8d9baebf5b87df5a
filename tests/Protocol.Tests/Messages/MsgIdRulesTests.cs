using MtActors.Protocol.Messages;

namespace MtActors.Protocol.Tests.Messages;

public class MsgIdRulesTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1705754877).AddTicks(1234567);
    private static readonly long NowId = MsgIds.FromTime(Now);
    private const long Second = 1L << 32;

    [Fact]
    public void Current_client_id_is_accepted()
    {
        long id = NowId & ~3L;
        Assert.Equal(BadMsgCode.None, MsgIdRules.Check(id, NowId));
        Assert.Equal(BadMsgCode.None, MsgIdRules.Check(id, Now));
    }

    [Fact]
    public void Exactly_300_seconds_behind_is_accepted_one_unit_more_is_16()
    {
        long edge = NowId - 300 * Second;
        Assert.Equal(0, NowId & 3); // the test time gives an id divisible by 4
        Assert.Equal(BadMsgCode.None, MsgIdRules.Check(edge, NowId));
        Assert.Equal(BadMsgCode.MsgIdTooLow, MsgIdRules.Check(edge - 4, NowId));
        Assert.Equal(BadMsgCode.MsgIdTooLow, MsgIdRules.Check(edge - 1, NowId));
        Assert.Equal(BadMsgCode.MsgIdTooLow, MsgIdRules.Check(0, NowId));
        Assert.Equal(BadMsgCode.MsgIdTooLow, MsgIdRules.Check(long.MinValue, NowId));
        // Via DateTimeOffset: exactly 300 s earlier in time.
        Assert.Equal(BadMsgCode.None, MsgIdRules.Check(MsgIds.FromTime(Now.AddSeconds(-300)), Now));
        Assert.Equal(BadMsgCode.MsgIdTooLow, MsgIdRules.Check(MsgIds.FromTime(Now.AddSeconds(-301)), Now));
    }

    [Fact]
    public void Exactly_30_seconds_ahead_is_accepted_one_unit_more_is_17()
    {
        long edge = NowId + 30 * Second;
        Assert.Equal(BadMsgCode.None, MsgIdRules.Check(edge, NowId));
        Assert.Equal(BadMsgCode.MsgIdTooHigh, MsgIdRules.Check(edge + 1, NowId));
        Assert.Equal(BadMsgCode.MsgIdTooHigh, MsgIdRules.Check(edge + 4, NowId));
        Assert.Equal(BadMsgCode.MsgIdTooHigh, MsgIdRules.Check(long.MaxValue, NowId));
        Assert.Equal(BadMsgCode.MsgIdTooHigh, MsgIdRules.Check(MsgIds.FromTime(Now.AddSeconds(31)), Now));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Ids_not_divisible_by_4_are_18(int residue)
    {
        Assert.Equal(BadMsgCode.MsgIdNotDivisibleBy4, MsgIdRules.Check((NowId & ~3L) | (long)residue, NowId));
        Assert.Equal(BadMsgCode.MsgIdNotDivisibleBy4, MsgIdRules.CheckModulo(residue));
    }

    [Fact]
    public void Time_errors_take_precedence_over_the_modulo()
    {
        Assert.Equal(BadMsgCode.MsgIdTooLow, MsgIdRules.Check(NowId - 400 * Second + 1, NowId));
        Assert.Equal(BadMsgCode.MsgIdTooHigh, MsgIdRules.Check(NowId + 40 * Second + 1, NowId));
    }

    [Fact]
    public void Server_ids_pass_the_clients_window_rules_except_parity()
    {
        // Sanity link with MsgIds: a server id generated now is inside the time window but odd.
        long server = MsgIds.NextServer(0, Now, isResponse: true);
        Assert.Equal(BadMsgCode.MsgIdNotDivisibleBy4, MsgIdRules.Check(server, NowId));
    }
}
