using System.CommandLine;
using MlOps.Serverless.Cli;
using MlOps.Serverless.Cli.Commands;

if (Console.IsOutputRedirected) CliConsole.Unwrap(Spectre.Console.AnsiConsole.Console);

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
