using System.Reflection;
using Microsoft.ML;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>
/// <c>SchemaShape.Create(DataViewSchema)</c> is internal in ML.NET 5.0.1, so user code only meets schema shapes through
/// <c>EstimatorChain.GetOutputSchema</c>. Tests reach it by reflection to call an estimator's GetOutputSchema directly.
/// </summary>
internal static class Shapes
{
    private static readonly MethodInfo Create = typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, [typeof(DataViewSchema)])
        ?? throw new InvalidOperationException("SchemaShape.Create(DataViewSchema) not found");

    public static SchemaShape Of(DataViewSchema schema) => (SchemaShape)Create.Invoke(null, [schema])!;
}
