using MtActors.Testing;

namespace MtActors.Interop.Tests.Infrastructure;

// The interop tests' server is MtActors.Testing's (src/Testing): the same in-process cluster an application's tests
// use, here with its state in a throwaway PostgreSQL (as in production).

/// <summary>One <see cref="MtActorsTestServer"/> on PostgreSQL for every test of the <see cref="ServerCollection"/>.</summary>
public sealed class ServerFixture : MtActorsFixture, IAsyncLifetime
{
    protected override void Configure(MtActorsTestServerOptions options) => options.Storage = MtActorsStorage.PostgreSql;
}

/// <summary>Tests against one shared server, run one after another (real clients are CPU-hungry; no flakes from contention).</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "mtactors-server";
}
