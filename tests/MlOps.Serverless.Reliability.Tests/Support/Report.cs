using Xunit.Abstractions;

namespace MlOps.Serverless.Reliability.Tests.Support;

/// <summary>Prints a figure both to the xunit output and to the console, so it shows in `dotnet test` output.</summary>
public static class Report
{
    public static void Print(ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
