using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Json;
using MlOps.Serverless.Core.SageMaker;

namespace MlOps.Serverless.Infra;

/// <summary>
/// Everything a deployment can choose, read from CDK context (<c>cdk.json</c> or <c>-c key=value</c>).
/// Defaults make one <c>cdk deploy</c> work without any context; docs/deploy.md lists every key.
/// </summary>
public sealed record StackSettings
{
    public string StackName { get; init; } = "MlOpsRetraining";
    /// <summary>Prefix of the named resources (Glue database, Athena workgroup, model package group, functions, alarms).</summary>
    public string Prefix { get; init; } = "mlops";
    public string Schedule { get; init; } = "cron(0 6 ? * MON *)";
    public bool ScheduleEnabled { get; init; } = true;
    public string XgboostVersion { get; init; } = XgboostImageUris.DefaultVersion;
    public string? TrainingInstanceType { get; init; }
    /// <summary>An MLflow REST URL or a SageMaker managed MLflow tracking server ARN; empty = no tracking server configured.</summary>
    public string? MlflowTrackingUri { get; init; }
    /// <summary>Name of an SSM SecureString holding the MLflow credentials (REST URL only).</summary>
    public string? MlflowCredentialsParameter { get; init; }
    /// <summary>Subscribed to the stack's topic (e-mail confirmation needed).</summary>
    public string? NotificationEmail { get; init; }
    /// <summary>An existing SNS topic to publish alarms and run notifications to, instead of the stack's own topic.</summary>
    public string? NotificationTopicArn { get; init; }
    /// <summary>The KMS key encrypting <see cref="NotificationTopicArn"/>, if it is encrypted with a customer managed key.</summary>
    public string? NotificationTopicKeyArn { get; init; }
    /// <summary>Cost caps per run (CDK context <c>guardrails</c>, same keys as <see cref="CostGuardrails"/>).</summary>
    public CostGuardrails Guardrails { get; init; } = CostGuardrails.Defaults;
    /// <summary>Athena cancels any query of the workgroup that scans more (CloudFormation minimum 10 MB).</summary>
    public long AthenaMaxBytesScannedPerQuery { get; init; } = 10_000_000_000;
    /// <summary>Days the work bucket keeps a run's outputs (<c>runs/</c>: input copy, features, splits, predictions, reports).</summary>
    public int RunRetentionDays { get; init; } = 90;
    public bool DeployEndpoint { get; init; }
    public string EndpointName => $"{Prefix}-weekly-sales";
    /// <summary>The <c>dotnet publish</c> output of src/MlOps.Serverless.Functions (linux-arm64).</summary>
    public string FunctionsAssetPath { get; init; } = "artifacts/functions";
    public string DefinitionPath { get; init; } = "statemachines/retraining.asl.json";
    /// <summary>Deployment-level configuration overrides (same keys as PipelineConfiguration), e.g. {"tuning.maxJobs": 20}.</summary>
    public JsonObject PipelineSettings { get; init; } = [];
    public string CurrentBatch { get; init; } = "current";
    public int LogRetentionDays { get; init; } = 30;
    public int AthenaResultsExpirationDays { get; init; } = 7;

    /// <summary>True when the tracking URI is a SageMaker managed MLflow tracking server (SigV4, IAM actions).</summary>
    public bool MlflowIsSageMaker => MlflowTrackingUri?.StartsWith("arn:", StringComparison.Ordinal) == true;

    /// <summary>
    /// The PIPELINE_SETTINGS the prepare-run stage applies over the defaults: the explicit <c>pipelineSettings</c>
    /// plus the dedicated keys (<c>xgboostVersion</c>, <c>trainingInstanceType</c>, <c>deployEndpoint</c>) unless
    /// <c>pipelineSettings</c> already sets them.
    /// </summary>
    public JsonObject EffectivePipelineSettings()
    {
        var result = (JsonObject)PipelineSettings.DeepClone();
        void Default(string key, JsonNode value)
        {
            var section = key.Split('.')[0];
            var nestedSet = result[section] is JsonObject nested && nested.ContainsKey(key.Split('.')[1]);
            if (!result.ContainsKey(key) && !nestedSet) result[key] = value;
        }
        Default("training.xgboostVersion", JsonValue.Create(XgboostVersion));
        if (TrainingInstanceType is { Length: > 0 } type) Default("training.instanceType", JsonValue.Create(type));
        if (DeployEndpoint) Default("predictions.updateEndpoint", JsonValue.Create(true));
        return result;
    }

    public static StackSettings FromContext(Func<string, object?> context)
    {
        string? Text(string key) => context(key) switch
        {
            null => null,
            string s => s.Trim(),
            var other => Convert.ToString(other, CultureInfo.InvariantCulture)?.Trim(),
        };
        bool Flag(string key, bool fallback) => Text(key) is { Length: > 0 } s
            ? bool.TryParse(s, out var b) ? b : throw new InvalidConfiguration($"context '{key}': expected true or false, got '{s}'")
            : fallback;
        int Number(string key, int fallback) => Text(key) is { Length: > 0 } s
            ? int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new InvalidConfiguration($"context '{key}': expected a positive integer, got '{s}'")
            : fallback;
        long LongNumber(string key, long fallback) => Text(key) is { Length: > 0 } s
            ? long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new InvalidConfiguration($"context '{key}': expected a positive integer, got '{s}'")
            : fallback;
        string? Optional(string key) => Text(key) is { Length: > 0 } s ? s : null;

        var defaults = new StackSettings();
        var settings = new StackSettings
        {
            StackName = Optional("stackName") ?? defaults.StackName,
            Prefix = Optional("prefix") ?? defaults.Prefix,
            Schedule = Optional("schedule") ?? defaults.Schedule,
            ScheduleEnabled = Flag("scheduleEnabled", defaults.ScheduleEnabled),
            XgboostVersion = Optional("xgboostVersion") ?? defaults.XgboostVersion,
            TrainingInstanceType = Optional("trainingInstanceType"),
            MlflowTrackingUri = Optional("mlflowTrackingUri"),
            MlflowCredentialsParameter = Optional("mlflowCredentialsParameter"),
            NotificationEmail = Optional("notificationEmail"),
            NotificationTopicArn = Optional("notificationTopicArn"),
            NotificationTopicKeyArn = Optional("notificationTopicKeyArn"),
            Guardrails = ParseGuardrails(context("guardrails")),
            AthenaMaxBytesScannedPerQuery = LongNumber("athenaMaxBytesScannedPerQuery", defaults.AthenaMaxBytesScannedPerQuery),
            RunRetentionDays = Number("runRetentionDays", defaults.RunRetentionDays),
            DeployEndpoint = Flag("deployEndpoint", defaults.DeployEndpoint),
            FunctionsAssetPath = Optional("functionsAssetPath") ?? defaults.FunctionsAssetPath,
            DefinitionPath = Optional("definitionPath") ?? defaults.DefinitionPath,
            PipelineSettings = ParseSettings(context("pipelineSettings")),
            CurrentBatch = Optional("currentBatch") ?? defaults.CurrentBatch,
            LogRetentionDays = Number("logRetentionDays", defaults.LogRetentionDays),
            AthenaResultsExpirationDays = Number("athenaResultsExpirationDays", defaults.AthenaResultsExpirationDays),
        };
        return settings.Validate();
    }

    private static CostGuardrails ParseGuardrails(object? value)
    {
        var json = ParseObject(value, "guardrails");
        if (json.Count == 0) return CostGuardrails.Defaults;
        try
        {
            var defaults = JsonSerializer.SerializeToNode(CostGuardrails.Defaults, CoreJsonContext.Default.CostGuardrails)!.AsObject();
            foreach (var (key, node) in json)
            {
                if (!defaults.ContainsKey(key))
                    throw new InvalidConfiguration($"context 'guardrails': unknown key '{key}' (expected one of: {string.Join(", ", defaults.Select(p => p.Key))})");
                defaults[key] = node?.DeepClone();
            }
            return defaults.Deserialize(CoreJsonContext.Default.CostGuardrails)!;
        }
        catch (JsonException e)
        {
            throw new InvalidConfiguration($"context 'guardrails': {e.Path?.TrimStart('$', '.')} has the wrong type ({e.Message.Split(". Path", 2)[0]})");
        }
    }

    private static JsonObject ParseSettings(object? value) => ParseObject(value, "pipelineSettings");

    private static JsonObject ParseObject(object? value, string key)
    {
        if (value is null) return [];
        // -c pipelineSettings='{"tuning.maxJobs": 8}' arrives as a string; cdk.json may hold an object.
        if (value is not string text) return ToNode(value) as JsonObject
            ?? throw new InvalidConfiguration($"context '{key}': expected a JSON object, got {value}");
        if (string.IsNullOrWhiteSpace(text)) return [];
        try
        {
            return JsonNode.Parse(text) as JsonObject
                ?? throw new InvalidConfiguration($"context '{key}': expected a JSON object, got {text}");
        }
        catch (JsonException e)
        {
            throw new InvalidConfiguration($"context '{key}': not valid JSON ({e.Message}): {text}");
        }
    }

    /// <summary>jsii hands cdk.json objects over as dictionaries, lists and primitives.</summary>
    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int or long or double or float or decimal => JsonNode.Parse(Convert.ToString(value, CultureInfo.InvariantCulture)!),
        System.Collections.IDictionary map => new JsonObject(map.Keys.Cast<object>()
            .Select(k => KeyValuePair.Create(Convert.ToString(k, CultureInfo.InvariantCulture)!, ToNode(map[k])))),
        System.Collections.IEnumerable list => new JsonArray(list.Cast<object?>().Select(ToNode).ToArray()),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    private StackSettings Validate()
    {
        // SageMaker names start with the prefix (IAM is scoped to it), and a tuning job name has 32 characters.
        if (!System.Text.RegularExpressions.Regex.IsMatch(Prefix, $"^[a-z][a-z0-9-]{{1,{JobNames.MaxPrefixLength - 1}}}$") || Prefix.EndsWith('-') || Prefix.Contains("--", StringComparison.Ordinal))
            throw new InvalidConfiguration($"context 'prefix': '{Prefix}' must be 2-{JobNames.MaxPrefixLength} characters of [a-z0-9-] starting with a letter, without a trailing or double hyphen (it names Glue, Athena and SageMaker resources)");
        if (NotificationTopicArn is { } topic && !System.Text.RegularExpressions.Regex.IsMatch(topic, @"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"))
            throw new InvalidConfiguration($"context 'notificationTopicArn': '{topic}' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)");
        if (NotificationTopicKeyArn is not null && NotificationTopicArn is null)
            throw new InvalidConfiguration("context 'notificationTopicKeyArn' is set but 'notificationTopicArn' is not; the key belongs to an existing topic");
        if (NotificationTopicKeyArn is { } key && !System.Text.RegularExpressions.Regex.IsMatch(key, @"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$"))
            throw new InvalidConfiguration($"context 'notificationTopicKeyArn': '{key}' is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)");
        if (NotificationEmail is { } email && !System.Text.RegularExpressions.Regex.IsMatch(email, @"^[^@\s]+@[^@\s]+\.[^@\s]+$"))
            throw new InvalidConfiguration($"context 'notificationEmail': '{email}' is not an e-mail address");
        if (AthenaMaxBytesScannedPerQuery < 10_000_000)
            throw new InvalidConfiguration($"context 'athenaMaxBytesScannedPerQuery': {AthenaMaxBytesScannedPerQuery} is below Athena's minimum cutoff of 10000000 bytes (10 MB)");
        if (Guardrails.Problems() is { Count: > 0 } capProblems)
            throw new InvalidConfiguration("context 'guardrails': " + string.Join("; ", capProblems));
        XgboostImageUris.For("us-east-1", XgboostVersion); // throws InvalidConfiguration naming the version
        if (!(Schedule.StartsWith("cron(", StringComparison.Ordinal) || Schedule.StartsWith("rate(", StringComparison.Ordinal)) || !Schedule.EndsWith(')'))
            throw new InvalidConfiguration($"context 'schedule': '{Schedule}' must be an EventBridge cron(...) or rate(...) expression");
        if (MlflowCredentialsParameter is { } p && !p.StartsWith('/') && p.Contains('/'))
            throw new InvalidConfiguration($"context 'mlflowCredentialsParameter': '{p}' must be a parameter name, either plain or a path starting with '/'");
        if (MlflowIsSageMaker && !System.Text.RegularExpressions.Regex.IsMatch(MlflowTrackingUri!, @"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:mlflow-tracking-server/[^/\s]+$"))
            throw new InvalidConfiguration($"context 'mlflowTrackingUri': '{MlflowTrackingUri}' looks like an ARN but not a SageMaker MLflow tracking server ARN (arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME)");
        if (MlflowTrackingUri is { } uri && !MlflowIsSageMaker && !(uri.StartsWith("https://", StringComparison.Ordinal) || uri.StartsWith("http://", StringComparison.Ordinal)))
            throw new InvalidConfiguration($"context 'mlflowTrackingUri': '{uri}' must be an http(s) URL of an MLflow server or a SageMaker MLflow tracking server ARN");
        // Credentials in the URL would land in the Lambda environment and the template; refuse without quoting them.
        if (MlflowTrackingUri is { } withUser && !MlflowIsSageMaker && Uri.TryCreate(withUser, UriKind.Absolute, out var parsed) && parsed.UserInfo.Length > 0)
            throw new InvalidConfiguration("context 'mlflowTrackingUri' carries credentials in the URL (scheme://***@host); put them in the SSM parameter named by 'mlflowCredentialsParameter'");
        if (MlflowCredentialsParameter is not null && MlflowTrackingUri is null)
            throw new InvalidConfiguration("context 'mlflowCredentialsParameter' is set but 'mlflowTrackingUri' is not; the credentials belong to a tracking server");
        // The prepare-run stage applies these on every run; a typo must fail the synth, not the first run.
        var effective = ConfigurationValidator.Validate(
            ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, EffectivePipelineSettings(), "context 'pipelineSettings'", m => new InvalidConfiguration(m)),
            m => new InvalidConfiguration($"context 'pipelineSettings': {m}"));
        Guardrails.Enforce(effective, m => new InvalidConfiguration($"context 'pipelineSettings': {m}"));
        return this;
    }
}
