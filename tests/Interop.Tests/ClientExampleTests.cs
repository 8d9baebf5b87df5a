using System.Globalization;
using System.Text.RegularExpressions;
using MtActors.Interop.Tests.Clients;
using MtActors.Interop.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MtActors.Interop.Tests;

/// <summary>
/// The client programs of README "Connecting a client" (tests/Interop.Tests/js/examples) run unchanged, exactly as the
/// README tells a user to run them (<c>node examples/X host port server.pem</c>), against an MtActors server, and the
/// README shows each file byte for byte.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class ClientExampleTests(ServerFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(60);

    public static TheoryData<string, string> Examples => new()
    {
        { "examples/gramjs-connect.cjs", "pong 42" },
        { "examples/mtcute-connect.mjs", "help.getConfig: true" },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task The_readme_example_creates_a_key_and_prints_the_answer(string script, string expected)
    {
        var server = fixture.Server;
        var run = await NodeClient.ForScript(script).RunAsync(
            [server.Address, server.Port.ToString(CultureInfo.InvariantCulture), server.PublicKeyPath],
            new Dictionary<string, string>(),
            RunBound);
        output.WriteLine(run.Describe());

        Assert.False(run.KilledOnTimeout, run.Describe());
        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Equal(expected, run.Stdout.Trim());
    }

    [Fact]
    public void The_readme_shows_every_example_file_verbatim()
    {
        var root = Path.GetFullPath(Path.Combine(JsHarness.Directory, "..", "..", ".."));
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        var shown = new List<string>();
        foreach (Match m in VerbatimBlock().Matches(readme))
        {
            var path = m.Groups["path"].Value;
            var file = Path.Combine(root, path);
            Assert.True(File.Exists(file), $"README includes {path}, which does not exist");
            Assert.True(File.ReadAllText(file).ReplaceLineEndings("\n") == m.Groups["code"].Value,
                $"README's copy of {path} differs from the file: paste the file between the marker's ``` fences again");
            shown.Add(path);
        }

        foreach (object[] row in Examples)
        {
            Assert.Contains("tests/Interop.Tests/js/" + row[0], shown);
        }
    }

    // <!-- verbatim: PATH --> then a fenced block whose text must equal the file (which ends with a newline).
    [GeneratedRegex(@"<!-- verbatim: (?<path>\S+) -->\n```[a-z]*\n(?<code>.*?\n)```\n", RegexOptions.Singleline)]
    private static partial Regex VerbatimBlock();
}
