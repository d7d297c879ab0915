using System.Text.Json.Nodes;

namespace MlOps.Serverless.Testing;

/// <summary>The least-privilege rules every policy statement of the template must satisfy.</summary>
public static class PolicyRules
{
    /// <summary>Actions that may (and must) use <c>"Resource": "*"</c> because the service has no resource-level permissions.</summary>
    public static IReadOnlyDictionary<string, string> StarResourceAllowList { get; } = new Dictionary<string, string>
    {
        ["xray:PutTraceSegments"] = "X-Ray has no resource-level permissions (Lambda and state machine tracing)",
        ["xray:PutTelemetryRecords"] = "X-Ray has no resource-level permissions",
        ["xray:GetSamplingRules"] = "X-Ray has no resource-level permissions (state machine tracing)",
        ["xray:GetSamplingTargets"] = "X-Ray has no resource-level permissions (state machine tracing)",
        ["logs:CreateLogDelivery"] = "Step Functions log delivery (vended logs) requires \"*\"",
        ["logs:GetLogDelivery"] = "Step Functions log delivery requires \"*\"",
        ["logs:UpdateLogDelivery"] = "Step Functions log delivery requires \"*\"",
        ["logs:DeleteLogDelivery"] = "Step Functions log delivery requires \"*\"",
        ["logs:ListLogDeliveries"] = "Step Functions log delivery requires \"*\"",
        ["logs:PutResourcePolicy"] = "Step Functions log delivery requires \"*\"",
        ["logs:DescribeResourcePolicies"] = "Step Functions log delivery requires \"*\"",
        ["logs:DescribeLogGroups"] = "Step Functions log delivery requires \"*\"",
        ["ecr:GetAuthorizationToken"] = "ECR login has no resource-level permissions (pulling the built-in XGBoost image)",
        ["cloudwatch:PutMetricData"] = "CloudWatch metrics have no resource-level permissions (SageMaker job metrics)",
        ["sagemaker:ListModelPackages"] = "SageMaker List* actions have no resource-level permissions (finding the champion)",
        ["lakeformation:GetDataAccess"] = "Lake Formation's data access vending has no resource-level permissions (Athena on governed tables)",
    };

    /// <summary>Every violation in the template; empty when all statements are least-privilege.</summary>
    public static IReadOnlyList<string> Violations(JsonObject template)
    {
        var violations = new List<string>();
        foreach (var (owner, statement) in CloudFormation.Statements(template))
        {
            var actions = CloudFormation.List(statement["Action"]);
            if (statement["NotAction"] is not null || statement["NotResource"] is not null)
                violations.Add($"{owner}: NotAction/NotResource");
            // Deny statements (SSL-only bucket and queue policies) may and should be broad.
            if ((string?)statement["Effect"] != "Allow") continue;
            foreach (var action in actions.Where(a => a == "*" || a.EndsWith(":*", StringComparison.Ordinal)))
                violations.Add($"{owner}: wildcard action {action}");
            var resources = CloudFormation.List(statement["Resource"]);
            // In a key policy "*" is the key itself.
            if (resources.Contains("*") && !owner.EndsWith("(AWS::KMS::Key)", StringComparison.Ordinal))
                foreach (var action in actions.Where(a => !StarResourceAllowList.ContainsKey(a)))
                    violations.Add($"{owner}: {action} on \"*\"");
        }
        return violations;
    }
}
