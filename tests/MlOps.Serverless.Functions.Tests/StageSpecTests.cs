using System.Reflection;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Functions.Tests;

/// <summary>The stage list names its handlers as text (the CDK app cannot see the functions); each must be a real handler.</summary>
public sealed class StageSpecTests
{
    [Fact]
    public void Every_stage_handler_names_a_public_Handle_method_of_the_functions_assembly()
    {
        var assembly = typeof(PrepareRunFunction).Assembly;
        Assert.Equal(StageSpec.Assembly, assembly.GetName().Name);
        foreach (var stage in StageSpec.All)
        {
            var parts = stage.Handler.Split("::");
            Assert.Equal(StageSpec.Assembly, parts[0]);
            var type = assembly.GetType(parts[1]);
            Assert.True(type is not null, $"{stage.Id}: no type {parts[1]} in {StageSpec.Assembly}");
            Assert.NotNull(type.GetMethod(parts[2], BindingFlags.Public | BindingFlags.Instance));
        }
    }
}
