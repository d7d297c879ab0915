using MlOps.Serverless.Local.Reporting;
using MlOps.Serverless.Training.Gate;

namespace MlOps.Serverless.Local.Tests.Reporting;

public sealed class RunSummaryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlops-summary-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // summary.json as a promoted run writes it: the facts a run did not reach are null, nulls inside the stages' outputs are left out.
    private const string Promoted = """
        {
          "runId": "local-1",
          "status": "SUCCEEDED",
          "outcome": "promoted",
          "failure": null,
          "elapsedSeconds": 4.2,
          "runFolder": "/m/runs/local-1",
          "outputs": "/m/s3/mlops-work/runs/local-1/",
          "model": "/m/s3/mlops-artifacts/runs/local-1/local-1-003/output/model.tar.gz",
          "forecast": "/m/runs/local-1/forecast.csv",
          "bestTrainingJob": "local-1-003",
          "quality": {
            "passed": true,
            "summary": "12 checks passed, 1 warning",
            "hardFailures": [],
            "warnings": [
              {
                "rule": "negativeSales",
                "measured": "0.2%",
                "threshold": "1%",
                "message": "some returns",
                "file": "sales.csv"
              }
            ],
            "reportUri": "s3://mlops-work/runs/local-1/quality/report.json"
          },
          "gate": {
            "decision": "promote",
            "reasons": [
              "WMAE 1,400.5 \u003C= 0.9 x naive 1,851.0"
            ],
            "challenger": {
              "wmae": 1400.5,
              "rmse": 2000.25,
              "mae": 1300,
              "rows": 1234
            },
            "baseline": {
              "wmae": 1851,
              "rmse": 2500,
              "mae": 1700,
              "rows": 1234
            },
            "champion": {
              "modelPackageArn": "arn:aws:sagemaker:us-east-1:000000000000:model-package/g/1",
              "comparable": true,
              "wmae": 1500,
              "rmse": 2100,
              "mae": 1400,
              "rows": 1234,
              "storedWmae": 1450,
              "featureSetVersion": "fs-1"
            },
            "modelPackageProperties": {
              "featureSetVersion": "fs-1"
            },
            "evaluationReportUri": "s3://mlops-work/runs/local-1/evaluation/report.json",
            "summary": "challenger WMAE 1,400.5 vs naive 1,851.0"
          },
          "modelPackageArn": "arn:aws:sagemaker:us-east-1:000000000000:model-package/g/2",
          "mlflow": {
            "training": {
              "status": "deferred"
            }
          },
          "statesEntered": 41,
          "costEstimate": {
            "instanceType": "ml.m5.xlarge",
            "trainingJobs": 4,
            "instancesPerJob": 1,
            "maxInstanceHours": 4,
            "pricePerInstanceHour": 0.23,
            "trainingOnDemandUsd": 0.92,
            "spot": true,
            "spotDiscountUpToUsd": 0.828,
            "athenaQueries": 8,
            "athenaBytesScanned": 80000000,
            "athenaUsd": 0.0004,
            "stateTransitions": 50,
            "lambdaRequests": 6,
            "orchestrationUsd": 0.00125,
            "totalUsd": 0.92165,
            "summary": "at most $0.92"
          },
          "cost": {
            "stateTransitions": 42,
            "lambdaInvocations": 6,
            "lambdaGbSeconds": 1.234,
            "stepFunctionsUsd": 0.00105,
            "lambdaUsd": 1.765E-05,
            "totalUsd": 0.0010676499999999998,
            "transformJobs": 3
          }
        }
        """;

    private string Write(string json)
    {
        File.WriteAllText(Path.Combine(_folder, RunSummary.FileName), json);
        return _folder;
    }

    [Fact]
    public void Summary_json_reads_into_the_record_and_writes_back_to_the_same_text()
    {
        var summary = RunSummary.Read(Write(Promoted));

        Assert.Equal(Promoted, summary.ToJson());
        Assert.Equal("promoted", summary.Outcome);
        Assert.Equal("/m/runs/local-1/forecast.csv", summary.Forecast);
        Assert.Equal("12 checks passed, 1 warning", summary.Quality!.Summary);
        Assert.Equal(3, summary.Cost.TransformJobs);
        Assert.Equal(4, summary.CostEstimate!.TrainingJobs);
    }

    [Fact]
    public void The_gate_metrics_come_for_challenger_naive_and_champion_in_the_reports_order()
    {
        var gate = RunSummary.Read(Write(Promoted)).Gate!;

        Assert.Equal("promote", RunSummary.DecisionName(gate.Decision));
        Assert.Equal("reject", RunSummary.DecisionName(GateDecision.Reject));
        Assert.Equal([("wmae", 1400.5, 1851.0, 1500.0), ("rmse", 2000.25, 2500.0, 2100.0), ("mae", 1300.0, 1700.0, 1400.0)],
            RunSummary.Metrics(gate).Select(m => (m.Metric, m.Challenger!.Value, m.Baseline!.Value, m.Champion!.Value)));
        Assert.Null(RunSummary.Metrics(gate with { Champion = null })[0].Champion);
    }

    [Fact]
    public void A_summary_that_is_not_one_is_refused_naming_the_file()
    {
        var folder = Write("""{"runId": 7""");

        var error = Assert.Throws<InvalidDataException>(() => RunSummary.Read(folder));
        Assert.StartsWith($"{Path.Combine(folder, RunSummary.FileName)} is not a run summary", error.Message);
    }
}
