using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Training.Gate;

namespace MlOps.Serverless.Training.Tests;

public sealed class GatePolicyTests
{
    private static Dictionary<string, string?> Evaluation(string? wmae = "800", string? naiveWmae = "1000", string? rows = "100", string? rmse = "1200") => new()
    {
        ["wmae"] = wmae, ["rmse"] = rmse, ["mae"] = "700",
        ["naive_wmae"] = naiveWmae, ["naive_rmse"] = "1500", ["naive_mae"] = "900", ["rows"] = rows,
    };

    private static ChampionReference Champion(params (string Key, string Value)[] metadata) =>
        new(true, "arn:aws:sagemaker:local:000000000000:model-package/retail/1", metadata.ToDictionary(m => m.Key, m => m.Value));

    private static readonly ChampionReference None = new(false);

    public static TheoryData<string, Dictionary<string, string?>, ChampionReference, double, GateDecision, string> Cases => new()
    {
        { "no champion, under the threshold", Evaluation(), None, 0, GateDecision.Promote, "threshold met: WMAE 800 <= 0.9 x naive WMAE 1,000 = 900" },
        { "no champion, over the threshold", Evaluation(wmae: "950"), None, 0, GateDecision.Reject, "threshold not met: WMAE 950 > 0.9 x naive WMAE 1,000 = 900" },
        { "exactly at the threshold passes", Evaluation(wmae: "900"), None, 0, GateDecision.Promote, "threshold met" },
        { "tie with the champion rejects", Evaluation(wmae: "800"), Champion(("wmae", "800")), 0, GateDecision.Reject, "does not beat the champion: WMAE 800 is not below 800" },
        { "beats the champion", Evaluation(wmae: "799"), Champion(("wmae", "800")), 0, GateDecision.Promote, "beats the champion: WMAE 799 < 800" },
        { "better but inside the margin", Evaluation(wmae: "795"), Champion(("wmae", "800")), 0.01, GateDecision.Reject, "is not below 792" },
        { "better by more than the margin", Evaluation(wmae: "790"), Champion(("wmae", "800")), 0.01, GateDecision.Promote, "beats the champion: WMAE 790 < 792" },
        { "beats the champion but fails the threshold", Evaluation(wmae: "950"), Champion(("wmae", "2000")), 0, GateDecision.Reject, "threshold not met" },
        { "missing WMAE", Evaluation(wmae: null), None, 0, GateDecision.Reject, "metric 'wmae' is missing" },
        { "NaN WMAE", Evaluation(wmae: "NaN"), None, 0, GateDecision.Reject, "metric 'wmae' is not a finite number ('NaN')" },
        { "infinite naive WMAE", Evaluation(naiveWmae: "Infinity"), None, 0, GateDecision.Reject, "metric 'naive_wmae' is not a finite number" },
        { "SQL NULL RMSE", Evaluation(rmse: null), None, 0, GateDecision.Reject, "metric 'rmse' is missing" },
        { "no test rows", Evaluation(rows: "0"), None, 0, GateDecision.Reject, "covered 0 rows" },
        { "champion metric in upper case", Evaluation(wmae: "850"), Champion(("WMAE", "800")), 0, GateDecision.Reject, "does not beat the champion: WMAE 850" },
        { "champion metric with a test: prefix", Evaluation(wmae: "700"), Champion(("test:wmae", "800")), 0, GateDecision.Promote, "beats the champion: WMAE 700 < 800" },
        { "champion with only validation:rmse", Evaluation(), Champion(("validation:rmse", "1234")), 0, GateDecision.Promote, "has no comparable WMAE in its metadata (keys: validation:rmse); the thresholds alone decide" },
        { "champion with a NaN WMAE", Evaluation(), Champion(("wmae", "NaN")), 0, GateDecision.Promote, "has no comparable WMAE" },
        { "champion's naive_wmae is not its WMAE", Evaluation(), Champion(("naive_wmae", "10")), 0, GateDecision.Promote, "has no comparable WMAE" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decides_by_thresholds_then_champion(string name, Dictionary<string, string?> evaluation, ChampionReference champion, double margin, GateDecision expected, string reason)
    {
        var policy = new GatePolicy(new GateSettings { MaxWmaeRatioToNaive = 0.9, MinImprovementOverChampion = margin });
        var verdict = policy.Decide(evaluation, champion);
        Assert.True(expected == verdict.Decision, $"{name}: expected {expected}, got {verdict.Decision}: {string.Join(" | ", verdict.Reasons)}");
        Assert.Contains(verdict.Reasons, r => r.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Incomplete_evaluation_reports_every_bad_metric_and_keeps_the_good_ones()
    {
        var verdict = new GatePolicy(new GateSettings()).Decide(Evaluation(wmae: "abc", naiveWmae: null), None);
        Assert.Equal(GateDecision.Reject, verdict.Decision);
        Assert.Contains(verdict.Reasons, r => r.Contains("'wmae' is not a finite number ('abc')", StringComparison.Ordinal));
        Assert.Contains(verdict.Reasons, r => r.Contains("'naive_wmae' is missing", StringComparison.Ordinal));
        Assert.Null(verdict.Challenger.Wmae);
        Assert.Equal(1200, verdict.Challenger.Rmse);
    }
}
