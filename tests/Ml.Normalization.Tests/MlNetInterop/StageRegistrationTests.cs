using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Tests.Transforms.Stages.Scale;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// What the library registers with ML.NET's ComponentCatalog, which <c>Model.Load</c> consults: exactly its shipped
/// stages. The example stage of the skeleton tests is registered from the test assembly and is not in the library.
/// </summary>
public class StageRegistrationTests
{
    [Fact]
    public void Library_RegistersExactlyItsShippedStages()
    {
        var library = typeof(BatchNormalizingTransformer).Assembly;
        var stages = library.GetTypes().Where(t => !t.IsAbstract && typeof(ColumnPairTransformer).IsAssignableFrom(t)).OrderBy(t => t.Name);

        Assert.Equal([typeof(BatchNormalizingTransformer), typeof(DropoutTransformer), typeof(InverseBatchNormalizingTransformer)], stages);
        Assert.Equal(stages, RegisteredStages(library));
    }

    [Fact]
    public void Library_HasNoTestOnlyScaleStage_ItIsRegisteredFromTheTestAssembly()
    {
        var library = typeof(BatchNormalizingTransformer).Assembly;

        Assert.DoesNotContain(library.GetTypes(), t => t.Name is "ScaleEstimator" or "ScaleTransformer" || (t.Namespace ?? "").EndsWith(".Scale", StringComparison.Ordinal));
        Assert.Equal([typeof(ScaleTransformer)], RegisteredStages(typeof(ScaleTransformer).Assembly));
    }

    private static IEnumerable<Type> RegisteredStages(System.Reflection.Assembly assembly) =>
        assembly.GetCustomAttributesData()
            .Where(a => a.AttributeType.IsGenericType && a.AttributeType.GetGenericTypeDefinition() == typeof(LoadableStageAttribute<>))
            .Select(a => a.AttributeType.GetGenericArguments()[0])
            .OrderBy(t => t.Name);
}
