using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MtActors.Interop.Tests.CSharpClient;
using MtActors.Interop.Tests.Infrastructure;
using MtActors.Protocol.Handshake;
using MtActors.Protocol.Tests.Handshake;
using MtActors.Protocol.Transport;
using MtActors.Silo.Gateway;
using MtActors.Silo.Hosting;
using MtActors.Silo.Postgres;
using MtActors.Silo.Rsa;
using Npgsql;

namespace MtActors.Interop.Tests;

/// <summary>
/// The real silo host (<see cref="SiloHost.Build"/>, what `dotnet run --project src/Silo` runs): it generates its RSA key
/// on the first run in &lt;data&gt;/mtproto (0600), keeps it across restarts, serves rotated keys side by side, and the
/// mtactors CLI prints the public key a client needs. The database is a fresh one on the shared test PostgreSQL.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class SiloHostGatewayTests(ServerFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
    public async Task The_host_generates_keeps_and_rotates_its_key_and_the_cli_prints_it()
    {
        var connectionString = await CreateDatabaseAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("mtactors-hostgw-").FullName;
        try
        {
            var keyDirectory = RsaKeyFiles.DirectoryIn(dataDirectory);
            var privatePath = RsaKeyFiles.PrivateKeyPath(keyDirectory);
            string firstPem;
            long firstFingerprint;
            await using (var silo = await StartAsync(connectionString, dataDirectory))
            {
                var gateway = silo.Services.GetRequiredService<MtProtoGateway>();
                var key = Assert.Single(gateway.RsaKeys!.Keys);
                Assert.True(key.Generated);
                Assert.Equal(privatePath, key.Source);
                Assert.True(RsaKeyFiles.IsMtcuteCompatible(key.Fingerprint), $"fingerprint {key.FingerprintHex}");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(privatePath));
                Assert.DoesNotContain("PRIVATE", File.ReadAllText(RsaKeyFiles.PublicKeysPath(keyDirectory)));
                firstPem = key.PublicKeyPem;
                firstFingerprint = key.Fingerprint;

                var cli = await CliAsync("rsa-key", "--data-dir", dataDirectory);
                Assert.Equal(0, cli.Code);
                Assert.Equal(firstPem.Trim(), cli.Out.Trim());
                Assert.Contains(key.FingerprintHex, cli.Err);
                var json = await CliAsync("rsa-key", "--json", "--data-dir", dataDirectory);
                using (var doc = JsonDocument.Parse(json.Out))
                {
                    Assert.Equal(key.FingerprintHex, doc.RootElement.GetProperty("keys")[0].GetProperty("fingerprint").GetString());
                }

                // A client given what the CLI printed creates a key and pings through the host's MTProto port.
                await using var client = await MtProtoTestClient.ConnectAsync(gateway.EndPoint!.Port, TransportKind.Intermediate);
                await client.CreateKeyAsync(cli.Out);
                client.Salt = 0;
                var (pong, _) = await client.PingAsync(11);
                Assert.Equal(11, pong.PingId);
            }

            var written = File.GetLastWriteTimeUtc(privatePath);
            await using (var silo = await StartAsync(connectionString, dataDirectory))
            {
                var key = Assert.Single(silo.Services.GetRequiredService<MtProtoGateway>().RsaKeys!.Keys);
                Assert.False(key.Generated);
                Assert.Equal(firstFingerprint, key.Fingerprint);
                Assert.Equal(written, File.GetLastWriteTimeUtc(privatePath));
            }

            // Rotation: a new key first, the old one still accepted; resPQ advertises both.
            var newKeyPath = Path.Combine(dataDirectory, "new-key.pem");
            long newFingerprint;
            using (var fresh = ServerRsaKeys.GenerateClientCompatible())
            {
                File.WriteAllText(newKeyPath, fresh.ExportPrivateKeyPem());
                File.SetUnixFileMode(newKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                newFingerprint = fresh.Fingerprint;
            }

            await using (var silo = await StartAsync(connectionString, dataDirectory,
                             $"--MtActors:MtProto:RsaKeyFiles:0={newKeyPath}", $"--MtActors:MtProto:RsaKeyFiles:1={privatePath}"))
            {
                var gateway = silo.Services.GetRequiredService<MtProtoGateway>();
                Assert.Equal([newFingerprint, firstFingerprint], gateway.RsaKeys!.Keys.Select(k => k.Fingerprint));
                await using var client = await MtProtoTestClient.ConnectAsync(gateway.EndPoint!.Port, TransportKind.Abridged);
                var hs = new TestClient(firstPem, 5);
                hs.ReadResPq(await client.PlainRoundTripAsync(hs.ReqPq()));
                Assert.Equal([newFingerprint, firstFingerprint], hs.ServerFingerprints);
                await using var old = await MtProtoTestClient.ConnectAsync(gateway.EndPoint!.Port, TransportKind.Intermediate);
                await old.CreateKeyAsync(firstPem); // clients still pinning the old key keep working

                var cli = await CliAsync("rsa-key", "--data-dir", dataDirectory);
                Assert.Equal(0, cli.Code);
                Assert.Equal(2, cli.Out.Split("-----BEGIN RSA PUBLIC KEY-----").Length - 1);
                Assert.Equal(newFingerprint, RsaServerKey.ComputeFingerprint(cli.Out[..(cli.Out.IndexOf("-----END RSA PUBLIC KEY-----", StringComparison.Ordinal) + 28)]));
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task The_cli_says_how_to_get_a_key_when_no_silo_ever_ran()
    {
        var empty = Directory.CreateTempSubdirectory("mtactors-nokey-").FullName;
        try
        {
            var cli = await CliAsync("rsa-key", "--data-dir", empty);
            Assert.Equal(4, cli.Code);
            Assert.Contains("start the silo once", cli.Err);
            Assert.Equal("", cli.Out);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void A_bad_gateway_setting_stops_the_host_with_its_name()
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => SiloHost.Build([
            "--ConnectionStrings:MtActors=Host=127.0.0.1;Port=1;Database=x;Username=x",
            "--MtActors:MtProto:Address=nowhere", "--MtActors:MtProto:MaxConnections=0", "--MtActors:MtProto:DcId=0",
        ]));
        Assert.Contains(ex.Problems, p => p.StartsWith("MtActors:MtProto:Address", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.StartsWith("MtActors:MtProto:MaxConnections", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.StartsWith("MtActors:MtProto:DcId", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreadable_key_file_stops_the_host_with_the_file_name()
    {
        var connectionString = await CreateDatabaseAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("mtactors-badkey-").FullName;
        try
        {
            var bad = Path.Combine(dataDirectory, "not-a-key.pem");
            File.WriteAllText(bad, "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n");
            var ex = await Assert.ThrowsAnyAsync<Exception>(() =>
                StartAsync(connectionString, dataDirectory, $"--MtActors:MtProto:RsaKeyFiles:0={bad}"));
            Assert.Contains(bad, Flatten(ex));
            Assert.Contains("no private key", Flatten(ex));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static string Flatten(Exception ex) =>
        string.Join(" | ", Enumerate(ex).Select(e => e.Message));

    private static IEnumerable<Exception> Enumerate(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException agg)
            {
                foreach (var inner in agg.InnerExceptions.SelectMany(Enumerate))
                {
                    yield return inner;
                }
            }
        }
    }

    private async Task<string> CreateDatabaseAsync()
    {
        var name = "hostgw_" + Guid.NewGuid().ToString("N")[..10];
        await using (var connection = new NpgsqlConnection(fixture.Server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(fixture.Server.ConnectionString) { Database = name }.ConnectionString;
    }

    private static async Task<WebApplication> StartAsync(string connectionString, string dataDirectory, params string[] extra)
    {
        var id = "hostgw-" + Guid.NewGuid().ToString("N")[..8];
        var app = SiloHost.Build([
            $"--ConnectionStrings:MtActors={connectionString}",
            $"--MtActors:DataDirectory={dataDirectory}",
            $"--MtActors:ClusterId={id}",
            $"--MtActors:ServiceId={id}",
            $"--MtActors:SiloPort={LocalPostgres.FreeLoopbackPort()}",
            $"--MtActors:GatewayPort={LocalPostgres.FreeLoopbackPort()}",
            "--MtActors:Http:Port=0",
            "--MtActors:MtProto:Port=0",
            "--MtActors:ShutdownTimeoutSeconds=20",
            "--Logging:LogLevel:Default=Warning",
            .. extra,
        ]);
        try
        {
            await app.StartAsync().WaitAsync(Bound);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    private static async Task<(int Code, string Out, string Err)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var code = await MtActors.Client.Cli.RunAsync(args, output, error, _ => null, bound.Token);
        return (code, output.ToString(), error.ToString());
    }
}
