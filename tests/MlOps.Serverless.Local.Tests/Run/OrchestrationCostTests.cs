using MlOps.Serverless.Core.Costs;
using MlOps.Serverless.Local.Run;

namespace MlOps.Serverless.Local.Tests.Run;

public sealed class OrchestrationCostTests
{
    [Fact]
    public void The_price_note_quotes_the_list_prices_the_estimate_uses()
    {
        Assert.Equal("$0.025 per 1,000 transitions, $0.0000133334 per GB-s arm64, $0.20 per 1M requests (us-east-1)", OrchestrationCost.PriceNote);
        Assert.Equal(
            (ListPrices.StepFunctionsPerThousandTransitions, ListPrices.LambdaPerGbSecondArm, ListPrices.LambdaPerMillionRequests),
            (OrchestrationCost.PricePerThousandTransitions, OrchestrationCost.PricePerLambdaGbSecondArm, OrchestrationCost.PricePerMillionLambdaRequests));
    }
}
