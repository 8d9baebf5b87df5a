namespace MtActors.Grains.Sessions;

/// <summary>
/// At most one storage write in flight; changes made while a write runs ride the next one.
/// <see cref="Schedule"/> starts a background write if none runs (fire and forget, errors are reported
/// to <c>onError</c> and retried with the next change), after the write-behind <c>delay</c>, so that a busy
/// session writes at most about once per delay instead of once per message; <see cref="FlushAsync"/> and
/// <see cref="IdleAsync"/> cut a pending delay short. <see cref="FlushAsync"/> returns once every change
/// made before the call is durable, and throws if the write that had to carry it failed.
/// Not thread-safe: meant for one grain activation (single-threaded scheduler); every write runs on the scheduler
/// that called <see cref="Schedule"/> or <see cref="FlushAsync"/>.
/// </summary>
public sealed class CoalescingWriter
{
    private readonly Func<Task> _writeOnce;
    private readonly Action<Exception> _onError;
    private Task? _running;
    private long _changes;   // bumped by every Schedule/Flush request
    private long _durable;   // changes covered by the last successful write
    private Exception? _lastError;
    private readonly TimeSpan _delay;
    private CancellationTokenSource? _waiting; // the write-behind delay of the running background write

    public CoalescingWriter(Func<Task> writeOnce, Action<Exception> onError, TimeSpan delay = default)
    {
        _writeOnce = writeOnce;
        _onError = onError;
        _delay = delay;
    }

    /// <summary>True while a write is running.</summary>
    public bool Busy => _running is { IsCompleted: false };

    /// <summary>Marks the state changed and makes sure a write will carry it (does not wait).</summary>
    public void Schedule()
    {
        _changes++;
        if (!Busy) _running = RunAsync(delayed: true);
    }

    /// <summary>Returns when everything changed up to now is durable.</summary>
    public async Task FlushAsync()
    {
        long target = ++_changes;
        while (_durable < target)
        {
            if (!Busy)
            {
                _running = RunAsync(delayed: false);
                await _running;
                if (_durable < target) throw new InvalidOperationException("state write failed", _lastError);
            }
            else
            {
                _waiting?.Cancel();
                await _running!;
            }
        }
    }

    /// <summary>Waits for the running write, if any (its failure is not rethrown).</summary>
    public Task IdleAsync()
    {
        _waiting?.Cancel();
        return _running ?? Task.CompletedTask;
    }

    /// <summary>
    /// Forgets the changes not written yet (the state is about to be deleted): a background write still waiting out
    /// its delay ends without writing; one already writing is waited for (its failure is not rethrown).
    /// </summary>
    public Task DiscardPendingAsync()
    {
        _durable = _changes;
        return IdleAsync();
    }

    private async Task RunAsync(bool delayed)
    {
        // Set before the first await: a Flush or Idle in the same turn must be able to cut the delay short.
        using CancellationTokenSource? waiting = delayed && _delay > TimeSpan.Zero ? new CancellationTokenSource() : null;
        _waiting = waiting;
        await Task.Yield(); // never write inline in the caller's frame
        if (waiting is not null)
        {
            // Back on the caller's scheduler after the delay (a grain's writes must run on its activation).
            await Task.Delay(_delay, waiting.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            _waiting = null;
        }
        try
        {
            while (_durable < _changes)
            {
                long covering = _changes;
                try
                {
                    await _writeOnce();
                    _durable = Math.Max(_durable, covering); // a discard meanwhile may have moved it further
                    _lastError = null;
                }
                catch (Exception ex)
                {
                    _lastError = ex;
                    _onError(ex);
                    return;
                }
            }
        }
        finally
        {
            // Done: an idle session keeps no finished write. (Nothing runs between this and the task's completion, and
            // whoever awaits this write holds the task itself.)
            _running = null;
        }
    }
}
