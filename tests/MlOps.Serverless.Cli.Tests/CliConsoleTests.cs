using System.CommandLine;
using MlOps.Serverless.Cli;
using MlOps.Serverless.Cli.Commands;
using Spectre.Console;

namespace MlOps.Serverless.Cli.Tests;

/// <summary>The console as a pipe sees it: Spectre's defaults for output that is not a terminal (80 columns).</summary>
[Collection("AnsiConsole")]
public sealed class CliConsoleTests
{
    private static (IAnsiConsole Console, StringWriter Text) Piped()
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(text),
        });
        return (console, text);
    }

    private static readonly string LongPath =
        "/work/some/where/mlops-local/s3/mlops-artifacts/runs/local-20261129-215441-5622/models/tune-local-20261129-215-e4c909fe-001-40a34251/output/model.tar.gz";

    [Fact]
    public void A_long_path_is_printed_whole_on_one_line_when_piped()
    {
        var (wrapping, before) = Piped();
        wrapping.MarkupLineInterpolated($"Model:  {LongPath}");
        Assert.True(before.ToString().TrimEnd().Split('\n').Length > 1, "Spectre wraps piped output at 80 columns by default");

        var (console, text) = Piped();
        CliConsole.Unwrap(console);
        console.MarkupLineInterpolated($"Model:  {LongPath}");

        Assert.Equal($"Model:  {LongPath}", text.ToString().TrimEnd('\n', '\r'));
    }

    [Theory]
    [InlineData("missing", "no such folder. Expected a folder holding \"sales data-set.csv\", \"Features data set.csv\", \"stores data-set.csv\".")]
    [InlineData("file", "is a file, not a folder.")]
    public async Task Run_refuses_a_wrong_data_folder_before_it_starts_anything(string layout, string expected)
    {
        var root = Directory.CreateTempSubdirectory("mlops-cli-").FullName;
        try
        {
            var data = Path.Combine(root, "data");
            if (layout == "file") File.WriteAllText(data, "Store,Dept,Date,Weekly_Sales,IsHoliday\n");
            var out_ = Path.Combine(root, "out");
            var (console, text) = Piped();
            CliConsole.Unwrap(console);
            var previous = AnsiConsole.Console;
            AnsiConsole.Console = console;
            int code;
            try
            {
                code = await new RootCommand { RunCommand.Create() }.Parse(["run", "--data", data, "--out", out_]).InvokeAsync();
            }
            finally
            {
                AnsiConsole.Console = previous;
            }

            Assert.Equal(2, code);
            var line = Assert.Single(text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"InvalidDataFolder: --data {data}", line);
            Assert.Contains(expected, line);
            Assert.False(Directory.Exists(out_), "nothing was started");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
