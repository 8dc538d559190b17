using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Transforms.Stages;

/// <summary>One column a mapper adds: its name, type, annotations, source column, and how to make its getter.</summary>
/// <param name="Name">Output column name (may hide an input column of the same name).</param>
/// <param name="Type">Output column type.</param>
/// <param name="Annotations">Output column annotations.</param>
/// <param name="SourceIndex">Index of the input column it reads.</param>
/// <param name="MakeGetter">Creates the getter over one input row; called once per cursor, never per row.</param>
internal sealed record OutputColumn(
    string Name,
    DataViewType Type,
    DataViewSchema.Annotations Annotations,
    int SourceIndex,
    Func<DataViewRow, Delegate> MakeGetter);
