using Spectre.Console;

namespace MlOps.Serverless.Cli;

public static class CliConsole
{
    /// <summary>
    /// Piped output has no terminal width, and Spectre then wraps at 80 columns, which breaks a printed path or command
    /// in two. A piped console gets a width no line reaches, so every line is printed whole.
    /// </summary>
    public static void Unwrap(IAnsiConsole console) => console.Profile.Width = short.MaxValue;
}
