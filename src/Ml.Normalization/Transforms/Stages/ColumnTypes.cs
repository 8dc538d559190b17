using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Transforms.Stages;

/// <summary>The numeric shape of a column our stages accept: Single or Double, scalar or vector.</summary>
/// <param name="IsDouble">Double items (otherwise Single).</param>
/// <param name="IsVector">A vector column (otherwise a scalar).</param>
/// <param name="Size">Slots: 1 for a scalar, the vector size, or 0 for a variable-size vector.</param>
internal readonly record struct NumericColumnShape(bool IsDouble, bool IsVector, int Size)
{
    public DataViewType ItemType => IsDouble ? NumberDataViewType.Double : NumberDataViewType.Single;
}

/// <summary>Schema checks with ML.NET's messages ("Schema mismatch for input column 'X': expected ..., got ...").</summary>
internal static class ColumnTypes
{
    /// <summary>Checks a column of a real schema.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or of another type.</exception>
    public static NumericColumnShape Check(DataViewSchema schema, string inputColumnName, bool allowVariableSize, string paramName)
    {
        var column = schema.GetColumnOrNull(inputColumnName)
            ?? throw MissingColumn(inputColumnName, paramName);
        return Check(column.Type, inputColumnName, allowVariableSize, paramName);
    }

    /// <summary>Checks a column of an estimator's schema shape.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or of another type.</exception>
    public static SchemaShape.Column Check(SchemaShape schema, string inputColumnName, bool allowVariableSize, string paramName)
    {
        int index = -1;
        for (int i = 0; i < schema.Count; i++)
        {
            if (schema[i].Name == inputColumnName)
            {
                index = i;
            }
        }

        if (index < 0)
        {
            throw MissingColumn(inputColumnName, paramName);
        }

        var column = schema[index];

        bool numeric = column.ItemType == NumberDataViewType.Single || column.ItemType == NumberDataViewType.Double;
        bool shapeOk = column.Kind == SchemaShape.Column.VectorKind.Scalar
            || column.Kind == SchemaShape.Column.VectorKind.Vector
            || (allowVariableSize && column.Kind == SchemaShape.Column.VectorKind.VariableVector);
        if (!numeric || column.IsKey || !shapeOk)
        {
            throw Mismatch(inputColumnName, Expected(allowVariableSize), Describe(column), paramName);
        }

        return column;
    }

    public static NumericColumnShape Check(DataViewType type, string inputColumnName, bool allowVariableSize, string paramName)
    {
        var itemType = (type as VectorDataViewType)?.ItemType ?? type;
        bool isDouble = itemType == NumberDataViewType.Double;
        if (itemType != NumberDataViewType.Single && !isDouble)
        {
            throw Mismatch(inputColumnName, Expected(allowVariableSize), type.ToString(), paramName);
        }

        if (type is VectorDataViewType vector)
        {
            if (!vector.IsKnownSize && !allowVariableSize)
            {
                throw Mismatch(inputColumnName, Expected(allowVariableSize), type.ToString(), paramName);
            }

            return new NumericColumnShape(isDouble, true, vector.Size);
        }

        return new NumericColumnShape(isDouble, false, 1);
    }

    /// <summary>Checks a stage's column pairs: at least one, none null; returns a copy.</summary>
    /// <exception cref="ArgumentException">No pairs.</exception>
    /// <exception cref="ArgumentNullException">The array or a pair is null.</exception>
    private const string ExpectedWeight = "scalar Single or Double";

    /// <summary>Checks an example-weight column: present, a scalar Single or Double (ML.NET's weight columns are Single).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or of another type.</exception>
    public static void CheckWeight(DataViewSchema schema, string weightColumnName, string paramName)
    {
        var column = schema.GetColumnOrNull(weightColumnName)
            ?? throw MissingColumn(weightColumnName, paramName);
        if (column.Type != NumberDataViewType.Single && column.Type != NumberDataViewType.Double)
        {
            throw WeightMismatch(weightColumnName, column.Type.ToString(), paramName);
        }
    }

    /// <inheritdoc cref="CheckWeight(DataViewSchema, string, string)"/>
    public static void CheckWeight(SchemaShape schema, string weightColumnName, string paramName)
    {
        var column = schema.LastOrDefault(c => c.Name == weightColumnName);
        if (column.Name != weightColumnName)
        {
            throw MissingColumn(weightColumnName, paramName);
        }

        bool numeric = column.ItemType == NumberDataViewType.Single || column.ItemType == NumberDataViewType.Double;
        if (!numeric || column.IsKey || column.Kind != SchemaShape.Column.VectorKind.Scalar)
        {
            throw WeightMismatch(weightColumnName, Describe(column), paramName);
        }
    }

    private static ArgumentOutOfRangeException WeightMismatch(string weightColumnName, string? actual, string paramName) =>
        new(paramName, $"Schema mismatch for example-weight column '{weightColumnName}': expected {ExpectedWeight}, got {actual}");

    public static InputOutputColumnPair[] CheckPairs(InputOutputColumnPair[] columns, string paramName)
    {
        ArgumentNullException.ThrowIfNull(columns, paramName);
        if (columns.Length == 0)
        {
            throw new ArgumentException("At least one column pair is needed.", paramName);
        }

        foreach (var pair in columns)
        {
            ArgumentNullException.ThrowIfNull(pair, paramName);
        }

        return [.. columns];
    }

    public static ArgumentOutOfRangeException MissingColumn(string inputColumnName, string paramName) =>
        new(paramName, $"Could not find input column '{inputColumnName}'");

    public static ArgumentOutOfRangeException Mismatch(string inputColumnName, string expected, string? actual, string paramName) =>
        new(paramName, $"Schema mismatch for input column '{inputColumnName}': expected {expected}, got {actual}");

    private static string Expected(bool allowVariableSize) => allowVariableSize
        ? "Single or Double, scalar or vector"
        : "Single or Double, scalar or known-size vector";

    private static string Describe(SchemaShape.Column column) => column.Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => column.IsKey ? $"Key<{column.ItemType}>" : column.ItemType.ToString(),
        SchemaShape.Column.VectorKind.Vector => $"Vector<{column.ItemType}>",
        _ => $"VarVector<{column.ItemType}>",
    } ?? string.Empty;
}
