using System.CommandLine;
using MlOps.Serverless.Cli.Commands;
using Spectre.Console;

// Piped output has no terminal width; Spectre would then wrap at 80 columns and break paths and commands in two.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = short.MaxValue;

var root = new RootCommand("MlOps.Serverless: serverless ML retraining on AWS Step Functions + SageMaker, runnable locally")
{
    RunCommand.Create(),
    BenchCommand.Create(),
    DataCommands.GenerateData(),
    DataCommands.BenchData(),
    TrainingCommands.BenchTraining(),
    MlflowCommands.Create(),
};
return await root.Parse(args).InvokeAsync();
