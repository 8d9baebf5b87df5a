namespace MtActors.Testing;

/// <summary>
/// One <see cref="MtActorsTestServer"/> for a test class or collection, shaped for xunit (2.x) without depending on it:
/// <see cref="InitializeAsync"/> and <see cref="DisposeAsync"/> are exactly xunit's <c>IAsyncLifetime</c>, so a
/// one-line subclass is an xunit fixture:
/// <code>
/// public sealed class ServerFixture : MtActorsFixture, IAsyncLifetime { }
/// public sealed class MyTests(ServerFixture fx) : IClassFixture&lt;ServerFixture&gt; { ... fx.Server.Port ... }
/// </code>
/// Override <see cref="Configure"/> to choose storage, register API handlers, etc. Other frameworks call
/// <see cref="InitializeAsync"/> and <see cref="DisposeAsync"/> from their own set-up and tear-down.
/// </summary>
public class MtActorsFixture : IAsyncDisposable
{
    private MtActorsTestServer? _server;

    /// <summary>The running server (after <see cref="InitializeAsync"/>).</summary>
    public MtActorsTestServer Server =>
        _server ?? throw new InvalidOperationException("The MtActors test server has not been started: call InitializeAsync first.");

    /// <summary>Chooses the server's options before it starts (default: as <see cref="MtActorsTestServerOptions"/> says).</summary>
    protected virtual void Configure(MtActorsTestServerOptions options)
    {
    }

    /// <summary>Starts the server.</summary>
    public async Task InitializeAsync()
    {
        var options = new MtActorsTestServerOptions();
        Configure(options);
        _server = await MtActorsTestServer.StartAsync(options);
    }

    /// <summary>Stops the server (safe to call more than once).</summary>
    public async Task DisposeAsync()
    {
        var server = Interlocked.Exchange(ref _server, null);
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}
