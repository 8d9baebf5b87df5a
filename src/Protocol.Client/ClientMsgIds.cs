using MtActors.Protocol.Messages;

namespace MtActors.Protocol.Client;

/// <summary>
/// Client msg_ids (spec §2.1): about unixtime * 2^32 on the server's clock (local clock + <see cref="Offset"/>),
/// divisible by 4, strictly increasing, low 32 bits never zero. Not thread-safe (the session calls it under its lock).
/// </summary>
public sealed class ClientMsgIds
{
    private readonly TimeProvider _time;
    private long _last;

    public ClientMsgIds(TimeProvider? time = null, TimeSpan offset = default)
    {
        _time = time ?? TimeProvider.System;
        Offset = offset;
    }

    /// <summary>Server clock minus local clock.</summary>
    public TimeSpan Offset { get; private set; }

    /// <summary>The last id handed out (0 before the first).</summary>
    public long Last => _last;

    public long Next()
    {
        long id = MsgIds.FromTime(_time.GetUtcNow() + Offset) & ~3L;
        if ((id & 0xFFFFFFFFL) == 0) id += 4;
        if (id <= _last) id = _last + 4;
        _last = id;
        return id;
    }

    /// <summary>
    /// Adopts the server's clock from one of its msg_ids (bad_msg_notification 16/17 carry a fresh one). Ids restart from
    /// the corrected clock: the messages that carried the wrong ones were refused, so nothing the server kept is above
    /// them (as Telethon does).
    /// </summary>
    public void SyncTo(long serverMsgId)
    {
        long serverTicks = (long)((ulong)serverMsgId >> 32) * TimeSpan.TicksPerSecond
            + (long)(((ulong)serverMsgId & 0xFFFFFFFFUL) * (ulong)TimeSpan.TicksPerSecond >> 32);
        var server = DateTimeOffset.UnixEpoch.AddTicks(serverTicks);
        Offset = server - _time.GetUtcNow();
        _last = 0;
    }

    /// <summary>Sets the offset directly (e.g. from the handshake's server_time).</summary>
    public void SetOffset(TimeSpan offset) => Offset = offset;
}

/// <summary>Client seq_no (spec §2.2): content-related -> 2c + 1 and c++, otherwise 2c.</summary>
public sealed class ClientSeqNo
{
    private int _contentCount;

    /// <summary>Content-related messages sent so far.</summary>
    public int ContentCount => _contentCount;

    public int Next(bool contentRelated) => contentRelated ? 2 * _contentCount++ + 1 : 2 * _contentCount;
}
