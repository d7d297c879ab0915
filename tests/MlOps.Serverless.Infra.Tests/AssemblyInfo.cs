using System.Runtime.CompilerServices;

// jsii runs one Node process per test host; CDK test classes must not synthesise concurrently.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace MlOps.Serverless.Infra.Tests;

internal static class JsiiSetup
{
    [ModuleInitializer]
    internal static void QuietNodeBanner() =>
        Environment.SetEnvironmentVariable("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20");
}
