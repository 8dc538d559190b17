using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// Builds <see cref="SchemaShape.Column"/> values for estimators' <c>GetOutputSchema</c>: its constructor is
/// internal, so a third-party estimator has no public way to describe the column it adds.
/// </summary>
internal static class SchemaShapes
{
    public static SchemaShape.Column Column(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations = null) =>
        new(name, kind, itemType, isKey, annotations);

    /// <summary>The annotation shape of a normalized column: the input's SlotNames (if any) and IsNormalized.</summary>
    public static SchemaShape NormalizedAnnotations(SchemaShape.Column input) => SlotNamesAnd(input, isNormalized: true);

    /// <summary>The annotation shape of a column mapped back from normalized values: the input's SlotNames (if any).</summary>
    public static SchemaShape SlotNameAnnotations(SchemaShape.Column input) => SlotNamesAnd(input, isNormalized: false);

    private static SchemaShape SlotNamesAnd(SchemaShape.Column input, bool isNormalized)
    {
        var columns = new List<SchemaShape.Column>();
        if (input.Annotations.TryFindColumn(AnnotationUtils.Kinds.SlotNames, out var slotNames))
        {
            columns.Add(slotNames);
        }

        if (isNormalized)
        {
            columns.Add(Column(AnnotationUtils.Kinds.IsNormalized, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false));
        }

        return new SchemaShape(columns);
    }
}
