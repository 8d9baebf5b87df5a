using MtActors.Grains.Sessions;

namespace MtActors.Grains.Tests;

public sealed class CoalescingWriterTests
{
    [Fact]
    public async Task Changes_made_during_a_write_ride_one_next_write_and_never_two_run_at_once()
    {
        int running = 0, maxRunning = 0, writes = 0;
        var gate = new TaskCompletionSource();
        var writer = new CoalescingWriter(async () =>
        {
            maxRunning = Math.Max(maxRunning, Interlocked.Increment(ref running));
            writes++;
            if (writes == 1) await gate.Task;
            Interlocked.Decrement(ref running);
        }, _ => { });

        writer.Schedule();
        await Task.Delay(50);
        for (int i = 0; i < 100; i++) writer.Schedule(); // while write 1 hangs
        Assert.Equal(1, writes);
        gate.SetResult();
        await writer.IdleAsync().WaitAsync(TimeSpan.FromSeconds(5));
        await writer.IdleAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, writes);
        Assert.Equal(1, maxRunning);
        Assert.False(writer.Busy);
        Assert.Same(Task.CompletedTask, writer.IdleAsync()); // a finished write is not kept (idle sessions hold none)
    }

    [Fact]
    public async Task Flush_waits_for_a_write_that_started_after_the_change_and_reports_its_failure()
    {
        int writes = 0;
        bool fail = false;
        var writer = new CoalescingWriter(() =>
        {
            writes++;
            return fail ? Task.FromException(new IOException("db down")) : Task.CompletedTask;
        }, _ => { });

        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, writes);
        fail = true;
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.IsType<IOException>(ex.InnerException);
        fail = false;
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(3, writes);
    }

    [Fact]
    public async Task Background_writes_wait_for_the_delay_and_flush_or_idle_cut_it_short()
    {
        int writes = 0;
        var writer = new CoalescingWriter(() =>
        {
            writes++;
            return Task.CompletedTask;
        }, _ => { }, TimeSpan.FromSeconds(30));

        for (int i = 0; i < 10; i++) writer.Schedule();
        await Task.Delay(200);
        Assert.Equal(0, writes); // still waiting: ten changes, no write yet
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5)); // does not wait 30 s
        Assert.Equal(1, writes);

        writer.Schedule();
        await writer.IdleAsync().WaitAsync(TimeSpan.FromSeconds(5)); // deactivation: written now
        Assert.Equal(2, writes);
    }

    [Fact]
    public async Task A_delayed_background_write_runs_on_the_scheduler_that_scheduled_it()
    {
        // A grain's writes must run on its activation's scheduler (Orleans refuses storage access from other threads).
        var exclusive = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        var schedulers = new List<TaskScheduler>();
        CoalescingWriter? writer = null;
        await Task.Factory.StartNew(() =>
        {
            writer = new CoalescingWriter(() =>
            {
                lock (schedulers) schedulers.Add(TaskScheduler.Current);
                return Task.CompletedTask;
            }, _ => { }, TimeSpan.FromMilliseconds(20));
            writer.Schedule();
        }, CancellationToken.None, TaskCreationOptions.None, exclusive);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            lock (schedulers) if (schedulers.Count > 0) break;
            await Task.Delay(10);
        }
        lock (schedulers) Assert.Equal([exclusive], schedulers);
    }
}
