using System.Text.Json;
using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Constructs;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Json;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The four stage functions, all from the one published functions assembly, each with its own role that can
/// write only its own log group (no AWSLambdaBasicExecutionRole, whose logs actions are on "*") plus what the
/// stage reads and writes.
/// </summary>
public sealed class StageFunctions : Construct
{
    /// <summary>CDK 2.160 has no constant for the dotnet10 managed runtime (GA January 2026).</summary>
    public static Runtime Dotnet10 { get; } = new("dotnet10", RuntimeFamily.DOTNET_CORE);

    public IReadOnlyDictionary<StageSpec, Function> Functions { get; }

    public StageFunctions(Construct scope, string id, StackSettings settings, Buckets buckets) : base(scope, id)
    {
        var code = Code.FromAsset(ResolveAsset(settings.FunctionsAssetPath));
        var pipelineSettings = settings.EffectivePipelineSettings().ToJsonString();
        var common = new Dictionary<string, string>
        {
            ["RAW_BUCKET"] = buckets.Raw.BucketName,
            ["RAW_PREFIX"] = Buckets.RawPrefix,
            ["WORK_BUCKET"] = buckets.Work.BucketName,
            ["ARTIFACT_BUCKET"] = buckets.Artifacts.BucketName,
        };

        var functions = new Dictionary<StageSpec, Function>();
        foreach (var stage in StageSpec.All)
            functions[stage] = CreateFunction(stage, settings, code, StageEnvironment(stage, settings, common, pipelineSettings));
        Functions = functions;

        // PrepareRun copies the fingerprinted upload versions into the run's prefix; later stages read only the copy.
        Grant(StageSpec.PrepareRun, [.. Buckets.ReadRaw(buckets), .. Buckets.ReadWriteRuns(buckets.Work)]);
        Grant(StageSpec.DataQualityVerdict, Buckets.ReadWriteRuns(buckets.Work));
        Grant(StageSpec.MlflowLogger, [.. Buckets.ReadWriteRuns(buckets.Work), .. ReadCurves(buckets)]);
        Grant(StageSpec.EvaluationGate, Buckets.ReadWriteRuns(buckets.Work));
        GrantMlflow(settings);
    }

    /// <summary>The buckets every stage gets, plus the run settings for PrepareRun and the tracking server for the MLflow stage.</summary>
    private static Dictionary<string, string> StageEnvironment(StageSpec stage, StackSettings settings, Dictionary<string, string> common, string pipelineSettings)
    {
        var environment = new Dictionary<string, string>(common);
        if (stage == StageSpec.PrepareRun)
        {
            environment["CURRENT_BATCH"] = settings.CurrentBatch;
            environment["PIPELINE_SETTINGS"] = pipelineSettings;
            if (settings.DeployEndpoint) environment["ENDPOINT_NAME"] = settings.EndpointName;
            environment["GUARDRAILS"] = JsonSerializer.Serialize(settings.Guardrails, CoreJsonContext.Default.CostGuardrails);
            environment["NAME_PREFIX"] = settings.Prefix;
        }
        if (stage == StageSpec.MlflowLogger)
        {
            if (settings.MlflowTrackingUri is { } uri) environment["MLFLOW_TRACKING_URI"] = uri;
            if (settings.MlflowCredentialsParameter is { } parameter) environment["MLFLOW_CREDENTIALS_PARAMETER"] = parameter;
        }
        return environment;
    }

    /// <summary>The stage's function with its own log group and role (the role gets only what <see cref="Grant"/> adds).</summary>
    private Function CreateFunction(StageSpec stage, StackSettings settings, Code code, Dictionary<string, string> environment)
    {
        var logGroup = new LogGroup(this, stage.Id + "Logs", new LogGroupProps
        {
            LogGroupName = $"/aws/lambda/{settings.Prefix}-{stage.Id}",
            Retention = Retention(settings.LogRetentionDays),
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        var role = new Role(this, stage.Id + "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = $"{stage.Id} stage function of the retraining workflow",
        });
        logGroup.GrantWrite(role);

        return new Function(this, stage.Id, new FunctionProps
        {
            FunctionName = $"{settings.Prefix}-{stage.Id}",
            Description = $"Retraining workflow stage {stage.Id} ({stage.ClassName})",
            Runtime = Dotnet10,
            Architecture = Architecture.ARM_64,
            Handler = stage.Handler,
            Code = code,
            MemorySize = stage.MemoryMb,
            Timeout = Duration.Seconds(stage.TimeoutSeconds),
            Environment = environment,
            LoggingFormat = LoggingFormat.JSON,
            // Lambda passes it as AWS_LAMBDA_LOG_LEVEL; StructuredLog drops lines below it.
            ApplicationLogLevelV2 = ApplicationLogLevel.INFO,
            LogGroup = logGroup,
            Tracing = Tracing.ACTIVE,
            Role = role,
        });
    }

    public Function this[StageSpec stage] => Functions[stage];

    private void Grant(StageSpec stage, IEnumerable<PolicyStatement> statements)
    {
        foreach (var statement in statements) Functions[stage].AddToRolePolicy(statement);
    }

    /// <summary>The logger reads each training job's per-round curves beside its model artifact
    /// (<c>runs/{runId}/models/{job}/output/metric-curves.json</c>); listing lets a missing file answer 404, not 403.</summary>
    private static PolicyStatement[] ReadCurves(Buckets buckets) =>
    [
        Buckets.List(buckets.Artifacts, Buckets.RunsPrefix, "s3:ListBucket"),
        new(new PolicyStatementProps
        {
            Actions = ["s3:GetObject"],
            Resources = [buckets.Artifacts.ArnForObjects(Buckets.RunsPrefix + "*/models/*/output/metric-curves.json")],
        }),
    ];

    private void GrantMlflow(StackSettings settings)
    {
        var function = Functions[StageSpec.MlflowLogger];
        var stack = Stack.Of(this);
        if (settings.MlflowCredentialsParameter is { } name)
        {
            function.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
            {
                Sid = "ReadMlflowCredentials",
                Actions = ["ssm:GetParameter"],
                Resources = [stack.FormatArn(new ArnComponents { Service = "ssm", Resource = "parameter", ResourceName = name.TrimStart('/') })],
            }));
            // The SecureString's key is the account's choice (aws/ssm or a CMK): any key, but only through SSM.
            function.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
            {
                Sid = "DecryptMlflowCredentialsThroughSsm",
                Actions = ["kms:Decrypt"],
                Resources = [stack.FormatArn(new ArnComponents { Service = "kms", Resource = "key", ResourceName = "*" })],
                Conditions = new Dictionary<string, object>
                {
                    ["StringEquals"] = new Dictionary<string, object> { ["kms:ViaService"] = $"ssm.{stack.Region}.{stack.UrlSuffix}" },
                },
            }));
        }
        if (settings.MlflowIsSageMaker)
        {
            function.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
            {
                Sid = "CallSageMakerManagedMlflow",
                Actions = MlflowActions.Select(a => "sagemaker-mlflow:" + a).ToArray(),
                Resources = [settings.MlflowTrackingUri!],
            }));
        }
    }

    /// <summary>
    /// The MLflow REST operations the MlflowLogger stage calls (MlflowClient through MlOps.Serverless.Mlflow.Logging), as
    /// sagemaker-mlflow IAM actions. Not AccessUI: the stage never opens the UI.
    /// </summary>
    public static IReadOnlyList<string> MlflowActions { get; } =
    [
        "GetExperimentByName", "CreateExperiment", "SetExperimentTag",
        "SearchRuns", "CreateRun", "LogBatch", "LogInputs", "UpdateRun",
        "GetRegisteredModel", "CreateRegisteredModel", "UpdateRegisteredModel", "CreateModelVersion", "GetModelVersion", "SearchModelVersions",
        "GetModelVersionByAlias", "SetRegisteredModelAlias",
    ];

    private static string ResolveAsset(string path)
    {
        var full = Path.GetFullPath(path);
        var assembly = Path.Combine(full, StageSpec.Assembly + ".dll");
        if (!File.Exists(assembly))
            throw new InvalidConfiguration(
                $"context 'functionsAssetPath': {assembly} does not exist. Publish the functions first: " +
                $"dotnet publish src/{StageSpec.Assembly} -c Release -r linux-arm64 --self-contained false -o {path}");
        return full;
    }

    /// <summary>The smallest CloudWatch Logs retention of at least <paramref name="days"/> days.</summary>
    public static RetentionDays Retention(int days) => RetentionSteps.FirstOrDefault(s => s.Days >= days, RetentionSteps[^1]).Value;

    private static readonly (int Days, RetentionDays Value)[] RetentionSteps =
    [
        (1, RetentionDays.ONE_DAY), (3, RetentionDays.THREE_DAYS), (5, RetentionDays.FIVE_DAYS), (7, RetentionDays.ONE_WEEK),
        (14, RetentionDays.TWO_WEEKS), (30, RetentionDays.ONE_MONTH), (60, RetentionDays.TWO_MONTHS), (90, RetentionDays.THREE_MONTHS),
        (120, RetentionDays.FOUR_MONTHS), (150, RetentionDays.FIVE_MONTHS), (180, RetentionDays.SIX_MONTHS), (365, RetentionDays.ONE_YEAR),
        (400, RetentionDays.THIRTEEN_MONTHS), (545, RetentionDays.EIGHTEEN_MONTHS), (731, RetentionDays.TWO_YEARS),
        (1827, RetentionDays.FIVE_YEARS), (3653, RetentionDays.TEN_YEARS),
    ];
}
