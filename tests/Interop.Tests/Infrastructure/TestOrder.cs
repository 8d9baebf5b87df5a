// The interop tests start servers, PostgreSQL and Node.js clients; on a small CI machine running them in parallel makes
// timings (handshake and idle timeouts, client deadlines) depend on CPU contention. One test at a time: no flakes.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
