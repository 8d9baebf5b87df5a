using System.Collections.Concurrent;

namespace MtActors.Grains.AuthKeys;

/// <summary>
/// Finds the stored sessions of an auth key. With PostgreSQL the session rows themselves are the record: their
/// <c>grainidn0</c> is the key's id, so one range scan of the primary key lists them (<c>PostgresSessionDirectory</c>
/// of the silo) and <see cref="Stored"/> / <see cref="Removed"/> do nothing. Storage without a query (the in-memory
/// test server) uses <see cref="InMemorySessionDirectory"/>, which keeps what the session grains tell it.
/// </summary>
public interface ISessionDirectory
{
    /// <summary>Ids of the sessions of <paramref name="authKeyId"/> whose state is stored, ascending.</summary>
    Task<long[]> ListAsync(long authKeyId, CancellationToken cancellationToken = default);

    /// <summary>A session's first write succeeded.</summary>
    void Stored(long authKeyId, long sessionId);

    /// <summary>A session's state was deleted.</summary>
    void Removed(long authKeyId, long sessionId);
}

/// <summary>
/// The directory for grain storage that cannot be queried (memory storage): one instance shared by every silo
/// of the process, as the memory storage itself is.
/// </summary>
public sealed class InMemorySessionDirectory : ISessionDirectory
{
    private readonly ConcurrentDictionary<(long AuthKeyId, long SessionId), byte> _sessions = new();

    public Task<long[]> ListAsync(long authKeyId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_sessions.Keys.Where(k => k.AuthKeyId == authKeyId).Select(k => k.SessionId).Order().ToArray());

    public void Stored(long authKeyId, long sessionId) => _sessions.TryAdd((authKeyId, sessionId), 0);

    public void Removed(long authKeyId, long sessionId) => _sessions.TryRemove((authKeyId, sessionId), out _);
}
