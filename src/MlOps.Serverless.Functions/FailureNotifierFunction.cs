using System.Text.Json.Serialization.Metadata;
using MlOps.Serverless.Core.Json;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Functions.Hosting;

namespace MlOps.Serverless.Functions;

/// <summary>
/// The FailureNotifier Lambda, the middle stage of the failure notifier state machine: from a failed run's status
/// change and history, the message <c>Run &lt;name&gt; ended FAILED: Failed at &lt;State&gt;: &lt;Error&gt;: &lt;message&gt;</c>
/// (see <see cref="FailureNotification"/>). Handler:
/// <c>MlOps.Serverless.Functions::MlOps.Serverless.Functions.FailureNotifierFunction::Handle</c>.
/// </summary>
public sealed class FailureNotifierFunction(StructuredLog? log = null) : StageFunction<FailureNotifierInput, FailureNotice>(log)
{
    public FailureNotifierFunction() : this(null) { }

    protected override JsonTypeInfo<FailureNotifierInput> InputContract => CoreJsonContext.Default.FailureNotifierInput;
    protected override JsonTypeInfo<FailureNotice> OutputContract => CoreJsonContext.Default.FailureNotice;

    protected override Task<FailureNotice> RunAsync(FailureNotifierInput input, CancellationToken cancellationToken) =>
        Task.FromResult(FailureNotification.Compose(input));
}
