using System.Globalization;

namespace MtActors.Interop.Tests.Clients;

/// <summary>
/// Command line of one driver run (gramjs.cjs / mtcute.mjs). Option names match the scripts' <c>--name</c> options;
/// see the header of each script for the scenarios and their extra options.
/// </summary>
public sealed record ClientOptions
{
    /// <summary>Server port on <see cref="Host"/>.</summary>
    public required int Port { get; init; }

    /// <summary>Scenario name, e.g. <c>connect-ping</c>.</summary>
    public required string Scenario { get; init; }

    /// <summary>Loopback only (the scripts refuse anything else).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>GramJS: full | abridged | obfuscated. mtcute: intermediate | padded | obfuscated | obfuscated-padded.</summary>
    public string? Transport { get; init; }

    /// <summary>PKCS#1 PEM file of the server's RSA public key (see <see cref="RsaPem"/>). Needed to create a key.</summary>
    public string? RsaKeyPath { get; init; }

    /// <summary>Pre-shared 256-byte auth key; the client skips the key exchange. Passed in the environment
    /// (MTI_AUTH_KEY), not on the command line.</summary>
    public byte[]? AuthKey { get; init; }

    public int DcId { get; init; } = 2;

    /// <summary>The script's own overall deadline; the runner kills the process a little after it.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>GramJS only: <c>sender</c> (raw MTProtoSender) or <c>client</c> (TelegramClient).</summary>
    public string? Mode { get; init; }

    /// <summary>Client library logs on stderr (they show up in failure messages).</summary>
    public bool Verbose { get; init; }

    /// <summary>Other options by name without dashes, e.g. <c>["skew"] = "-600"</c>, <c>["target-session"] = "123"</c>.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    /// <summary>Flags by name without dashes, e.g. <c>wait-pong</c>, <c>renew</c>, <c>print-auth-key</c>.</summary>
    public IReadOnlyList<string> Flags { get; init; } = [];

    /// <summary>Environment variables for the driver (the pre-shared key).</summary>
    public IReadOnlyDictionary<string, string> ToEnvironment()
    {
        if (AuthKey is null) return new Dictionary<string, string>();
        if (AuthKey.Length != 256) throw new ArgumentException($"A pre-shared auth key has 256 bytes, not {AuthKey.Length}.");
        return new Dictionary<string, string> { ["MTI_AUTH_KEY"] = Convert.ToHexStringLower(AuthKey) };
    }

    public IReadOnlyList<string> ToArguments()
    {
        var args = new List<string>
        {
            "--host", Host,
            "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--scenario", Scenario,
            "--dc", DcId.ToString(CultureInfo.InvariantCulture),
            "--timeout", ((long)Timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        };
        if (Transport is not null) args.AddRange(["--transport", Transport]);
        if (RsaKeyPath is not null) args.AddRange(["--rsa-key", RsaKeyPath]);
        if (Mode is not null) args.AddRange(["--mode", Mode]);
        if (Verbose) args.Add("--verbose");
        foreach ((string name, string value) in Extra) args.AddRange(["--" + name, value]);
        foreach (string flag in Flags) args.Add("--" + flag);
        return args;
    }
}
