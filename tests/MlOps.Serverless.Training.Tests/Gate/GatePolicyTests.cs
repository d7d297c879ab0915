using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Training.Gate;

namespace MlOps.Serverless.Training.Tests.Gate;

public sealed class GatePolicyTests
{
    private const string CurrentFeatureSet = "fs-0123456789ab";

    private static Dictionary<string, string?> Evaluation(string? wmae = "800", string? naiveWmae = "1000", string? rows = "100", string? rmse = "1200",
        string? championWmae = null, string? championRows = "0") => new()
        {
            ["wmae"] = wmae, ["rmse"] = rmse, ["mae"] = "700",
            ["naive_wmae"] = naiveWmae, ["naive_rmse"] = "1500", ["naive_mae"] = "900", ["rows"] = rows,
            ["champion_wmae"] = championWmae, ["champion_rmse"] = championWmae is null ? null : "1300", ["champion_mae"] = championWmae is null ? null : "750",
            ["champion_rows"] = championRows,
        };

    /// <summary>The evaluation with the champion scored on all 100 test rows.</summary>
    private static Dictionary<string, string?> SameRows(string challengerWmae, string championWmae) =>
        Evaluation(wmae: challengerWmae, championWmae: championWmae, championRows: "100");

    private const string Arn = "arn:aws:sagemaker:local:000000000000:model-package/retail/1";

    private static ModelPackageDescription Package(string? featureSet = CurrentFeatureSet, string? storedWmae = null, bool modelData = true,
        params (string Key, string Value)[] extra)
    {
        var metadata = extra.ToDictionary(m => m.Key, m => m.Value);
        if (featureSet is not null) metadata["featureSetVersion"] = featureSet;
        if (storedWmae is not null) metadata["wmae"] = storedWmae;
        return new ModelPackageDescription(metadata, new ModelPackageInference(modelData
            ? [new ModelPackageContainer("xgboost:1.7-1", "s3://artifacts/runs/old/models/job/output/model.tar.gz")]
            : []));
    }

    /// <summary>A champion of this feature set that the state machine scored on this run's test features.</summary>
    private static ChampionReference Scored(string? storedWmae = null, params (string Key, string Value)[] extra) =>
        new(true, Arn, Package(storedWmae: storedWmae, extra: extra), new ChampionScoring(ChampionScoring.Scored, "eval-champion-run"));

    private static ChampionReference Unscored(ModelPackageDescription package) => new(true, Arn, package);

    private static ChampionReference Failed(string error, string cause) =>
        new(true, Arn, Package(storedWmae: "500"), new ChampionScoring(ChampionScoring.Failed, Error: error, Cause: cause));

    private static readonly ChampionReference None = new(false);

    public static TheoryData<string, Dictionary<string, string?>, ChampionReference, double, GateDecision, string> Cases => new()
    {
        { "no champion, under the threshold", Evaluation(), None, 0, GateDecision.Promote, "threshold met: WMAE 800 <= 0.9 x naive WMAE 1,000 = 900" },
        { "no champion, over the threshold", Evaluation(wmae: "950"), None, 0, GateDecision.Reject, "threshold not met: WMAE 950 > 0.9 x naive WMAE 1,000 = 900" },
        { "exactly at the threshold passes", Evaluation(wmae: "900"), None, 0, GateDecision.Promote, "threshold met" },
        { "tie with the champion on the same rows rejects", SameRows("800", "800"), Scored(), 0, GateDecision.Reject, "does not beat the champion on the same 100 test rows: WMAE 800 is not below 800" },
        { "beats the champion on the same rows", SameRows("799", "800"), Scored(), 0, GateDecision.Promote, "beats the champion on the same 100 test rows: WMAE 799 < 800" },
        { "better but inside the margin", SameRows("795", "800"), Scored(), 0.01, GateDecision.Reject, "is not below 792" },
        { "better by more than the margin", SameRows("790", "800"), Scored(), 0.01, GateDecision.Promote, "WMAE 790 < 792" },
        { "beats the champion but fails the threshold", SameRows("950", "2000"), Scored(), 0, GateDecision.Reject, "threshold not met" },
        // The stored WMAE was measured on the champion's own, older test weeks: it is history and never decides.
        { "champion better on its old weeks but worse on the new is replaced", SameRows("800", "850"), Scored(storedWmae: "500"), 0, GateDecision.Promote,
            "beats the champion on the same 100 test rows: WMAE 800 < 850" },
        { "champion worse on its old weeks but better on the new is kept", SameRows("800", "700"), Scored(storedWmae: "2000"), 0, GateDecision.Reject,
            "does not beat the champion on the same 100 test rows: WMAE 800 is not below 700" },
        { "the stored WMAE is reported as history", SameRows("800", "850"), Scored(storedWmae: "500"), 0, GateDecision.Promote,
            "history only: the champion's package recorded WMAE 500 on the test weeks of the run that registered it" },
        { "stored WMAE in upper case is history", SameRows("800", "850"), Scored(extra: ("WMAE", "640")), 0, GateDecision.Promote, "recorded WMAE 640" },
        { "feature set changed: not comparable, thresholds decide", Evaluation(), Unscored(Package(featureSet: "fs-aaaaaaaaaaaa", storedWmae: "1")), 0, GateDecision.Promote,
            "is not comparable: it was trained on feature set fs-aaaaaaaaaaaa, this run's features are fs-0123456789ab; it cannot score them; the thresholds alone decide" },
        { "feature set changed and over the threshold", Evaluation(wmae: "950"), Unscored(Package(featureSet: "fs-aaaaaaaaaaaa")), 0, GateDecision.Reject, "threshold not met" },
        { "champion without a recorded feature set", Evaluation(), Unscored(Package(featureSet: null, storedWmae: "1")), 0, GateDecision.Promote,
            "its package records no feature set ('featureSetVersion')" },
        { "champion without model data", Evaluation(), Unscored(Package(modelData: false)), 0, GateDecision.Promote, "its package has no model data" },
        { "missing champion model (CreateModel refused it)", Evaluation(), Failed("SageMaker.ValidationException",
                "Could not find model data at s3://artifacts/runs/old/models/job/output/model.tar.gz."), 0, GateDecision.Promote,
            "its model could not be scored on this run's test weeks (SageMaker.ValidationException: Could not find model data at s3://artifacts/runs/old" },
        { "corrupt champion model (its transform failed)", Evaluation(), Failed("States.TaskFailed",
                """{"TransformJobStatus":"Failed","FailureReason":"ClientError: s3://artifacts/old/model.tar.gz is not a gzip-compressed tar archive"}"""), 0, GateDecision.Promote,
            "(States.TaskFailed: ClientError: s3://artifacts/old/model.tar.gz is not a gzip-compressed tar archive)" },
        { "champion that predicted only some rows", Evaluation(championWmae: null, championRows: "90"), Scored(), 0, GateDecision.Promote,
            "its batch transform predicted 90 of the 100 test rows" },
        { "missing WMAE", Evaluation(wmae: null), None, 0, GateDecision.Reject, "metric 'wmae' is missing" },
        { "NaN WMAE", Evaluation(wmae: "NaN"), None, 0, GateDecision.Reject, "metric 'wmae' is not a finite number ('NaN')" },
        { "infinite naive WMAE", Evaluation(naiveWmae: "Infinity"), None, 0, GateDecision.Reject, "metric 'naive_wmae' is not a finite number" },
        { "SQL NULL RMSE", Evaluation(rmse: null), None, 0, GateDecision.Reject, "metric 'rmse' is missing" },
        { "no test rows", Evaluation(rows: "0"), None, 0, GateDecision.Reject, "covered 0 rows" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decides_by_thresholds_then_champion_on_the_same_rows(string name, Dictionary<string, string?> evaluation, ChampionReference champion, double margin,
        GateDecision expected, string reason)
    {
        var policy = new GatePolicy(new GateSettings { MaxWmaeRatioToNaive = 0.9, MinImprovementOverChampion = margin });
        var verdict = policy.Decide(evaluation, champion, CurrentFeatureSet);
        Assert.True(expected == verdict.Decision, $"{name}: expected {expected}, got {verdict.Decision}: {string.Join(" | ", verdict.Reasons)}");
        Assert.Contains(verdict.Reasons, r => r.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Champion_summary_carries_the_same_rows_figures_and_the_stored_one_apart()
    {
        var verdict = new GatePolicy(new GateSettings()).Decide(SameRows("800", "850"), Scored(storedWmae: "500"), CurrentFeatureSet);

        var champion = verdict.Champion!;
        Assert.True(champion.Comparable);
        Assert.Equal((850.0, 1300.0, 750.0, 100L), (champion.Wmae, champion.Rmse, champion.Mae, champion.Rows));
        Assert.Equal(500, champion.StoredWmae);
        Assert.Equal(CurrentFeatureSet, champion.FeatureSetVersion);
        Assert.Null(champion.Reason);
    }

    [Fact]
    public void A_not_comparable_champion_has_no_same_rows_figures_even_if_the_query_returned_some()
    {
        var verdict = new GatePolicy(new GateSettings()).Decide(SameRows("800", "10"), Unscored(Package(featureSet: "fs-aaaaaaaaaaaa", storedWmae: "5")), CurrentFeatureSet);

        Assert.Equal(GateDecision.Promote, verdict.Decision);
        Assert.False(verdict.Champion!.Comparable);
        Assert.Null(verdict.Champion.Wmae);
        Assert.Equal(5, verdict.Champion.StoredWmae);
    }

    [Fact]
    public void Incomplete_evaluation_reports_every_bad_metric_and_keeps_the_good_ones()
    {
        var verdict = new GatePolicy(new GateSettings()).Decide(Evaluation(wmae: "abc", naiveWmae: null), None, CurrentFeatureSet);
        Assert.Equal(GateDecision.Reject, verdict.Decision);
        Assert.Contains(verdict.Reasons, r => r.Contains("'wmae' is not a finite number ('abc')", StringComparison.Ordinal));
        Assert.Contains(verdict.Reasons, r => r.Contains("'naive_wmae' is missing", StringComparison.Ordinal));
        Assert.Null(verdict.Challenger.Wmae);
        Assert.Equal(1200, verdict.Challenger.Rmse);
    }
}
