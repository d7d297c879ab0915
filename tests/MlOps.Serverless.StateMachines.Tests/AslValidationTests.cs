using System.Diagnostics;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.StateMachines.Tests;

public sealed class AslValidationTests
{
    [Fact]
    public void Definition_with_its_placeholders_filled_is_valid_according_to_asl_validator() =>
        AssertValid("retraining.asl.json", TestDefinition.Substituted());

    private static void AssertValid(string fileName, string definition)
    {
        using var folder = new TempFolder("mlops-asl-");
        var file = Path.Combine(folder.Path, fileName);
        File.WriteAllText(file, definition);
        var node = NodeEnvironment.Discover();
        var validator = Path.Combine(node.ModulesDirectory, "asl-validator", "dist", "bin", "asl-validator.js");
        var process = Process.Start(new ProcessStartInfo(node.NodeExecutable, [validator, "--json-path", file])
        { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("valid", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Failure_notifier_definition_with_its_placeholders_filled_is_valid_according_to_asl_validator() =>
        AssertValid(FailureNotification.DefinitionFileName, DefinitionTemplate.Substitute(DefinitionFile.LoadTemplate(FailureNotification.DefinitionFileName),
            new Dictionary<string, string>
            {
                ["FailureNotifierFunctionArn"] = "arn:aws:lambda:us-east-1:123456789012:function:mlops-FailureNotifier",
                ["NotificationTopicArn"] = "arn:aws:sns:us-east-1:123456789012:mlops-notifications",
            }));

    [Fact]
    public void Every_deployment_specific_value_is_a_placeholder()
    {
        var template = DefinitionFile.LoadTemplate();
        var placeholders = DefinitionTemplate.Placeholders(template);

        Assert.Contains("PrepareRunFunctionArn", placeholders);
        Assert.Contains("SageMakerRoleArn", placeholders);
        Assert.Contains("NotificationTopicArn", placeholders);
        Assert.DoesNotContain("arn:aws:lambda:", template);
        Assert.DoesNotContain("arn:aws:iam:", template);
        Assert.DoesNotContain("arn:aws:sns:", template);
    }

    [Fact]
    public void Unfilled_placeholder_is_refused()
    {
        var error = Assert.Throws<MlOps.Serverless.Core.Errors.InvalidConfiguration>(() =>
            DefinitionTemplate.Substitute("""{"a":"${One}","b":"${Two}"}""", new Dictionary<string, string> { ["One"] = "1" }));
        Assert.Contains("Two", error.Message);
    }
}
