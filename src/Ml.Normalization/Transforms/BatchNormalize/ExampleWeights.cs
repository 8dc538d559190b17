using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// Reads a fit's example-weight column (<see cref="BatchNormalizingEstimator.Options.ExampleWeightColumnName"/>) from
/// the cursor, once per row, into the <see cref="RowWeight"/> every column's <see cref="WeightedBatchMoments{T}"/> reads.
/// </summary>
internal sealed class ExampleWeights
{
    private readonly string _columnName;
    private readonly Func<double> _read;

    private ExampleWeights(string columnName, Func<double> read)
    {
        _columnName = columnName;
        _read = read;
    }

    /// <summary>The weight of the row last read.</summary>
    public RowWeight Current { get; } = new();

    /// <summary>The cursor's getter of weight column <paramref name="column"/> (checked by <see cref="ColumnTypes.CheckWeight(DataViewSchema, string, string)"/>).</summary>
    public static ExampleWeights Create(DataViewRow cursor, DataViewSchema.Column column)
    {
        if (column.Type == NumberDataViewType.Double)
        {
            var getter = cursor.GetGetter<double>(column);
            return new ExampleWeights(column.Name, () =>
            {
                double w = 0;
                getter(ref w);
                return w;
            });
        }

        var single = cursor.GetGetter<float>(column);
        return new ExampleWeights(column.Name, () =>
        {
            float w = 0;
            single(ref w);
            return w;
        });
    }

    /// <summary>Reads the cursor's current row's weight, row <paramref name="row"/> (from 0) of the fit; null where the row's index is unknown (a cursor of a set).</summary>
    /// <exception cref="InvalidOperationException">The weight is negative, NaN or infinite.</exception>
    public void Read(long? row)
    {
        double w = _read();
        if (!(w >= 0) || double.IsPositiveInfinity(w))
        {
            throw new InvalidOperationException($"Column '{_columnName}' gave weight {w.ToString(CultureInfo.InvariantCulture)} {(row is { } r ? $"at row {r}" : "at a row")}: an example weight must be finite and 0 or more (a weight of 2 counts the row twice, 0 leaves it out).");
        }

        Current.Value = w;
    }
}
