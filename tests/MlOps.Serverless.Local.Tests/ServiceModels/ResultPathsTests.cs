using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.ServiceModels;
using Xunit.Abstractions;

namespace MlOps.Serverless.Local.Tests.ServiceModels;

/// <summary>
/// Every JSONPath the definition reads from a Task result exists in AWS's output shape of the answering operation;
/// an optional member is read only where the model or the request guarantees it, or behind an IsPresent Choice.
/// </summary>
public sealed class ResultPathsTests(ITestOutputHelper output)
{
    private static JsonObject Definition() => JsonNode.Parse(LocalDefinition.Build(LocalDefinition.SampleModelPackageGroup))!.AsObject();

    /// <summary>
    /// Optional in the output model, present by what the request asks: reading them cannot fail on a finished job.
    /// </summary>
    private static readonly Dictionary<string, string> GuaranteedByTheRequest = new(StringComparer.Ordinal)
    {
        ["Payload"] = "a synchronous (RequestResponse) Invoke answers with the function's payload; a function error fails the state instead",
        ["QueryExecution"] = "GetQueryExecution (the .sync answer) always describes the execution it was asked for",
        ["QueryExecutionId"] = "every query execution has its id",
        ["ResultSet"] = "GetQueryResults of a SUCCEEDED query (the .sync state before it waited for it) has a result set",
        ["HyperParameters"] = "every training request of the definition sets HyperParameters / StaticHyperParameters",
        ["FinalMetricDataList"] = "a Completed job of the built-in XGBoost lists its final train/validation metrics",
        ["BestTrainingJob"] = "a tuning job ends Completed (.sync fails otherwise) only with a best training job",
    };

    [Fact]
    public void Every_result_path_the_definition_reads_exists_in_the_output_shape()
    {
        var reads = ResultPaths.Reads(Definition());
        foreach (var read in reads) output.WriteLine($"{read.State}: {read.Path} <- {read.Producer}{(read.Missing is null ? "" : "  MISSING " + read.Missing)}");

        Assert.Contains(reads, r => r.State == "DescribeBestTrainingJob" && r.Path == "$.ModelArtifacts");
        Assert.Contains(reads, r => r.State == "CreateModel" && r.Path == "$.training.bestTrainingJob.ModelArtifacts.S3ModelArtifacts");
        Assert.Contains(reads, r => r.State == "DescribeChampion" && r.Producer == "FindChampion" && r.Path == "$.champion.packages[0].ModelPackageArn");
        Assert.All(reads, r => Assert.True(r.Missing is null, $"{r.State} reads {r.Path} from {r.Producer}'s result, which has no {r.Missing}"));
    }

    [Fact]
    public void The_failure_notifier_reads_Events_as_the_aws_sdk_integration_spells_it()
    {
        var reads = ResultPaths.Reads(JsonNode.Parse(LocalDefinition.BuildFailureNotifier())!.AsObject());

        Assert.Contains(reads, r => r.State == "GetExecutionHistory" && r.Path == "$.Events" && r.Producer == "GetExecutionHistory");
        Assert.All(reads, r => Assert.True(r.Missing is null, $"{r.State} reads {r.Path} from {r.Producer}'s result, which has no {r.Missing}"));
    }

    [Fact]
    public void Optional_output_members_are_read_only_where_guaranteed_or_checked_for_presence()
    {
        var definition = Definition();
        var guarded = ResultPaths.PresenceChecked(definition);
        var unsafeReads = ResultPaths.Reads(definition)
            .SelectMany(r => r.Optional.Select(o => (r, o.Member, o.PathToIt)))
            .Where(x => !GuaranteedByTheRequest.ContainsKey(x.Member) && !IsChecked(guarded, x.PathToIt))
            .Select(x => $"{x.r.State} reads {x.r.Path}: {x.Member} is optional in {x.r.Producer}'s output and nothing checks it is present")
            .ToList();
        Assert.True(unsafeReads.Count == 0, string.Join("\n", unsafeReads));
    }

    /// <summary>Checked present, or a member inside it is (a present descendant implies a present parent).</summary>
    private static bool IsChecked(IEnumerable<string> guarded, string path) =>
        guarded.Any(g => g == path || g.StartsWith(path + ".", StringComparison.Ordinal) || g.StartsWith(path + "[", StringComparison.Ordinal));

    [Fact]
    public void A_selector_reading_an_optional_member_is_caught()
    {
        // What DescribeChampion did: CustomerMetadataProperties is optional in DescribeModelPackage's output.
        var definition = Definition();
        definition["States"]!["DescribeChampion"]!["ResultSelector"] = new JsonObject { ["properties.$"] = "$.CustomerMetadataProperties" };
        var read = Assert.Single(ResultPaths.Reads(definition), r => r.State == "DescribeChampion" && r.Path == "$.CustomerMetadataProperties");
        Assert.Null(read.Missing);
        Assert.Equal("CustomerMetadataProperties", Assert.Single(read.Optional).Member);

        definition["States"]!["DescribeChampion"]!["ResultSelector"] = new JsonObject { ["properties.$"] = "$.CustomerMetadata" };
        Assert.Equal("$.CustomerMetadata", ResultPaths.Reads(definition).Single(r => r.State == "DescribeChampion" && r.Path == "$.CustomerMetadata").Missing);
    }
}
