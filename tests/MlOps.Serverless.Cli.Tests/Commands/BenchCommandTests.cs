using System.CommandLine;
using MlOps.Serverless.Cli.Commands;

namespace MlOps.Serverless.Cli.Tests.Commands;

/// <summary><c>mlops bench --out</c> deletes its scratch folder first, and so only a folder it may delete.</summary>
[Collection("AnsiConsole")]
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mlops-bench-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static async Task<(int Code, string Error)> BenchAsync(string output)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            var code = await new RootCommand { BenchCommand.Create() }.Parse(["bench", "--out", output]).InvokeAsync();
            return (code, error.ToString());
        }
        finally
        {
            Console.SetError(previous);
        }
    }

    [Fact]
    public async Task Bench_refuses_to_delete_a_folder_it_did_not_create()
    {
        var output = Path.Combine(_root, "mine");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "thesis.tex"), "keep me");

        var (code, error) = await BenchAsync(output);

        Assert.Equal(2, code);
        Assert.StartsWith($"BenchFolderInUse: --out {output} holds files the bench did not create (no .mlops-bench marker)", error);
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(output, "thesis.tex")));
    }

    [Fact]
    public async Task Bench_refuses_a_file_as_its_folder()
    {
        var output = Path.Combine(_root, "notes.txt");
        File.WriteAllText(output, "keep me");

        var (code, error) = await BenchAsync(output);

        Assert.Equal(2, code);
        Assert.StartsWith($"BenchFolderInUse: --out {output} is a file, not a folder.", error);
        Assert.Equal("keep me", File.ReadAllText(output));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("empty")]
    [InlineData("made by a bench")]
    public void A_new_empty_or_earlier_bench_folder_is_emptied_and_marked(string state)
    {
        var output = Path.Combine(_root, "bench");
        if (state != "missing") Directory.CreateDirectory(output);
        if (state == "made by a bench")
        {
            File.WriteAllText(Path.Combine(output, BenchFolder.MarkerFile), "");
            Directory.CreateDirectory(Path.Combine(output, "sample", "s3"));
        }

        BenchFolder.Reset(output);

        Assert.Equal([Path.Combine(output, BenchFolder.MarkerFile)], Directory.EnumerateFileSystemEntries(output));
    }
}
