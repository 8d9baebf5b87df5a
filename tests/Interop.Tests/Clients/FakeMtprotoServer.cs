using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace MtActors.Interop.Tests.Clients;

/// <summary>
/// Runs js/selftest/fake-server.cjs, a deliberately small MTProto server that exists only to self-test the client
/// drivers while the real gateway is being built. It proves the drivers and the runner, never MtActors.
/// </summary>
public sealed class FakeMtprotoServer : IDisposable
{
    private readonly Process _process;
    private readonly string _keyDir;

    private FakeMtprotoServer(Process process, string keyDir, int port)
    {
        _process = process;
        _keyDir = keyDir;
        Port = port;
    }

    public int Port { get; }

    /// <param name="rsa">The server's RSA key (its private half is handed to the fake server in a temp file).</param>
    /// <param name="wrapDestroyReplies">Answer destroy_session / destroy_auth_key inside rpc_result instead of bare.</param>
    /// <param name="preSharedKey">A 256-byte auth key the server knows from the start.</param>
    public static async Task<FakeMtprotoServer> StartAsync(RSA rsa, bool wrapDestroyReplies = false, byte[]? preSharedKey = null)
    {
        JsHarness.EnsureInstalled();
        string keyDir = Directory.CreateTempSubdirectory("mtactors-fake-server-").FullName;
        string pem = Path.Combine(keyDir, "server-rsa-private.pem");
        File.WriteAllText(pem, rsa.ExportRSAPrivateKeyPem());
        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = JsHarness.Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine("selftest", "fake-server.cjs"));
        psi.ArgumentList.Add("--rsa-priv");
        psi.ArgumentList.Add(pem);
        if (wrapDestroyReplies) psi.ArgumentList.Add("--wrap-destroy");
        if (preSharedKey is not null)
        {
            psi.ArgumentList.Add("--preshared-key");
            psi.ArgumentList.Add(Convert.ToHexStringLower(preSharedKey));
        }
        Process process = Process.Start(psi) ?? throw new InvalidOperationException("Cannot start node for the fake server.");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            string? line = await process.StandardOutput.ReadLineAsync(cts.Token);
            if (line is null) throw new InvalidOperationException("The fake server exited before it listened.");
            using JsonDocument doc = JsonDocument.Parse(line);
            return new FakeMtprotoServer(process, keyDir, doc.RootElement.GetProperty("port").GetInt32());
        }
        catch
        {
            Stop(process);
            Directory.Delete(keyDir, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        Stop(_process);
        _process.Dispose();
        try
        {
            Directory.Delete(_keyDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
