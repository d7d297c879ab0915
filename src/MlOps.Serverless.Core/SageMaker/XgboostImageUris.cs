using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Core.SageMaker;

/// <summary>
/// The SageMaker built-in XGBoost image per region: AWS publishes it from a different ECR account in each
/// region. The accounts are those of the SageMaker Python SDK's <c>image_uri_config/xgboost.json</c>
/// (identical for the versions supported here).
/// </summary>
public static class XgboostImageUris
{
    public const string DefaultVersion = "1.7-1";
    public const string Repository = "sagemaker-xgboost";

    /// <summary>The region name local mode uses; its "image" is a name, never pulled.</summary>
    public const string LocalRegion = "local";

    public static IReadOnlyList<string> Versions { get; } = ["1.7-1", "1.5-1", "1.3-1"];

    /// <summary>Region → ECR registry account of the built-in XGBoost image (versions in <see cref="Versions"/>).</summary>
    public static IReadOnlyDictionary<string, string> Accounts { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["af-south-1"] = "510948584623",
        ["ap-east-1"] = "651117190479",
        ["ap-northeast-1"] = "354813040037",
        ["ap-northeast-2"] = "366743142698",
        ["ap-northeast-3"] = "867004704886",
        ["ap-south-1"] = "720646828776",
        ["ap-south-2"] = "628508329040",
        ["ap-southeast-1"] = "121021644041",
        ["ap-southeast-2"] = "783357654285",
        ["ap-southeast-3"] = "951798379941",
        ["ap-southeast-4"] = "106583098589",
        ["ca-central-1"] = "341280168497",
        ["ca-west-1"] = "190319476487",
        ["cn-north-1"] = "450853457545",
        ["cn-northwest-1"] = "451049120500",
        ["eu-central-1"] = "492215442770",
        ["eu-central-2"] = "680994064768",
        ["eu-north-1"] = "662702820516",
        ["eu-south-1"] = "978288397137",
        ["eu-south-2"] = "104374241257",
        ["eu-west-1"] = "141502667606",
        ["eu-west-2"] = "764974769150",
        ["eu-west-3"] = "659782779980",
        ["il-central-1"] = "898809789911",
        ["me-central-1"] = "272398656194",
        ["me-south-1"] = "801668240914",
        ["sa-east-1"] = "737474898029",
        ["us-east-1"] = "683313688378",
        ["us-east-2"] = "257758044811",
        ["us-gov-east-1"] = "237065988967",
        ["us-gov-west-1"] = "414596584902",
        ["us-iso-east-1"] = "833128469047",
        ["us-isob-east-1"] = "281123927165",
        ["us-isof-east-1"] = "108575199400",
        ["us-isof-south-1"] = "124985052026",
        ["us-west-1"] = "746614075791",
        ["us-west-2"] = "246618743249",
    };

    /// <summary><c>{account}.dkr.ecr.{region}.{domain}/sagemaker-xgboost:{version}</c>, or <c>local/sagemaker-xgboost:{version}</c> locally.</summary>
    public static string For(string region, string version)
    {
        if (!Versions.Contains(version, StringComparer.Ordinal))
            throw new InvalidConfiguration(
                $"training.xgboostVersion: '{version}' is not a supported built-in XGBoost version (region '{region}'); expected one of {string.Join(", ", Versions)}");
        if (region == LocalRegion) return $"local/{Repository}:{version}";
        if (!Accounts.TryGetValue(region, out var account))
            throw new InvalidConfiguration(
                $"region '{region}' has no SageMaker built-in XGBoost {version} image; supported regions: {string.Join(", ", Accounts.Keys)}");
        return $"{account}.dkr.ecr.{region}.{DomainFor(region)}/{Repository}:{version}";
    }

    /// <summary>The DNS suffix of the region's partition (what CloudFormation calls AWS::URLSuffix).</summary>
    public static string DomainFor(string region) => region switch
    {
        _ when region.StartsWith("cn-", StringComparison.Ordinal) => "amazonaws.com.cn",
        _ when region.StartsWith("us-isob-", StringComparison.Ordinal) => "sc2s.sgov.gov",
        _ when region.StartsWith("us-isof-", StringComparison.Ordinal) => "csp.hci.ic.gov",
        _ when region.StartsWith("us-iso-", StringComparison.Ordinal) => "c2s.ic.gov",
        _ => "amazonaws.com",
    };
}
