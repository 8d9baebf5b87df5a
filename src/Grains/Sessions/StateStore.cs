using Orleans.Storage;

namespace MtActors.Grains.Sessions;

/// <summary>
/// One grain's row in a named grain storage provider, read only when the grain asks for it. Orleans'
/// <c>IPersistentState</c> reads the row during activation, before the grain knows what the first call needs;
/// a session that is being created has no row, and can find that out from its first write (an insert that
/// fails with <see cref="InconsistentStateException"/> when a row exists) instead of from a read.
/// Same ETag rules as <c>IPersistentState</c>: the provider's compare-and-swap on the version it last saw.
/// </summary>
internal sealed class StateStore<T> where T : class
{
    private readonly IGrainStorage _storage;
    private readonly string _stateName;
    private readonly GrainId _grainId;
    private readonly GrainState<T> _state = new(); // no value until read or set for a write

    public StateStore(IGrainStorage storage, string stateName, GrainId grainId)
    {
        _storage = storage;
        _stateName = stateName;
        _grainId = grainId;
    }

    /// <summary>
    /// The state last read, or set for the next write. Not kept once written
    /// or <see cref="Release">released</see>: an idle grain holds its live form, not a second copy for storage.
    /// </summary>
    public T State
    {
        get => _state.State ?? throw new InvalidOperationException("grain state without a value (written or released)");
        set => _state.State = value;
    }

    /// <summary>Drops the state read last (the grain has taken what it needs); the version and existence stay.</summary>
    public void Release() => _state.State = null!;

    /// <summary>True when the last read found a row or the last write stored one.</summary>
    public bool RecordExists => _state.RecordExists;

    public Task ReadAsync(CancellationToken cancellationToken = default) =>
        _storage.ReadStateAsync(_stateName, _grainId, _state, cancellationToken);

    /// <summary>
    /// Writes <see cref="State"/>: an update of the version last seen, or, when no row was seen (nothing read yet,
    /// or the last read found none), an insert. Either throws <see cref="InconsistentStateException"/> when the row
    /// in storage is not the one expected.
    /// </summary>
    public async Task WriteAsync(CancellationToken cancellationToken = default)
    {
        await _storage.WriteStateAsync(_stateName, _grainId, _state, cancellationToken);
        Release();
    }

    /// <summary>Deletes the row (the provider runs with DeleteStateOnClear).</summary>
    public Task ClearAsync(CancellationToken cancellationToken = default) =>
        _storage.ClearStateAsync(_stateName, _grainId, _state, cancellationToken);
}
