namespace MtActors.Grains;

/// <summary>
/// Constructor ids of the built-in test methods the session grain answers when
/// <c>MtActors:Sessions:BuiltInTestMethods</c> is on (the default) and the application registered no handler of
/// its own for them. Test conveniences, not a Telegram API: see docs/session-semantics.md.
/// </summary>
public static class MtProtoTestMethods
{
    /// <summary>
    /// help.getConfig#c4f9186b, answered with boolTrue. GramJS's connect() sends
    /// invokeWithLayer(initConnection(help.getConfig)) and accepts any parseable result (real-clients.md §2.5).
    /// </summary>
    public const uint HelpGetConfig = 0xc4f9186b;

    /// <summary>
    /// mtactors.echo#19e170e9 payload:bytes = mtactors.Echo (CRC32 of that line): the answer is the query itself,
    /// byte for byte. For load generators and round-trip tests.
    /// </summary>
    public const uint Echo = 0x19e170e9;

    /// <summary>
    /// mtactors.sleep#1348a0b5 milliseconds:int = Bool: answers boolTrue after the delay (0..60000 ms, cancelled by
    /// rpc_drop_answer). For tests of running queries (rpc_drop_answer, msgs_state_req, timeouts).
    /// </summary>
    public const uint Sleep = 0x1348a0b5;

    /// <summary>The longest mtactors.sleep honoured, in milliseconds.</summary>
    public const int MaxSleepMilliseconds = 60_000;
}
