using Microsoft.ML;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>
/// The O(non-zeros) fit of sparse rows gives the dense fit's statistics for the same values, in both modes and under
/// every statistics option.
/// </summary>
/// <remarks>
/// Tolerance: |sparse - dense| &lt;= 1e-12 * (|dense| + 1). The two paths differ only in rounding: a run of g untouched
/// batches is folded as one multiplication by m^g instead of g multiplications by m (at most ~(g + 1) * 2^-53 relative,
/// g &lt;= 25 here), the implicit zeros of a slot whose shift is not 0 (slot 1, values near 1000) are added at the batch's
/// end instead of in row order (a few ulps of shift^2 per batch, relative to the sums), and bias correction divides by
/// 1 - m^t (at most 1 / (1 - 0.5) = 2 here for t = 1; 10 for m = 0.9). That is ~1e-14 relative; 1e-12 leaves room while
/// any real difference (a batch counted or not, a wrong decay) shows at 1e-2 or more. The absolute term covers slots whose
/// statistics are ~0 (never touched: the dense path leaves ~1e-17 of bias-correction noise there).
/// </remarks>
public class SparseFitEqualityTests
{
    private const int Slots = 40;

    public static TheoryData<bool, float?, bool, bool, bool, int> Cases() => new()
    {
        // center, momentum, bias correction, unbiased variance, double column, batch size (203 rows: a final partial batch)
        { true, 0.9f, true, false, false, 16 },
        { false, 0.9f, true, false, false, 16 },
        { false, 0.9f, false, false, false, 16 },
        { false, 0.5f, true, true, false, 8 },
        { true, null, true, false, false, 16 },
        { false, null, false, true, true, 8 },
        { false, 0.9f, true, true, true, 32 },
        { true, 0f, false, false, true, 2 },
        { false, 0.99f, true, false, false, 7 },
    };

    [Theory]
    [InlineData(false, 16)]
    [InlineData(true, 7)]
    [InlineData(true, 1000)]
    public void SparseRows_WithWholeDataStatistics_FitTheDenseStatistics(bool unbiased, int batchSize)
    {
        foreach (bool withNaN in new[] { false, true })
        {
            var rows = SparseData.Make(8, 203, Slots, withNaN);
            var options = new BatchNormalizingEstimator.Options { Center = false, WholeDataStatistics = true, UnbiasedRunningVariance = unbiased, BatchSize = batchSize };

            var sparse = Fit(rows, sparse: true, isDouble: false, options);
            var dense = Fit(rows, sparse: false, isDouble: false, options);

            Assert.Equal(dense.RowCount, sparse.RowCount);
            AssertClose(dense.RunningMean, sparse.RunningMean, $"mean (NaN: {withNaN})");
            AssertClose(dense.RunningVariance, sparse.RunningVariance, $"variance (NaN: {withNaN})");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SparseRows_FitTheDenseStatistics(bool center, float? momentum, bool biasCorrection, bool unbiased, bool isDouble, int batchSize)
    {
        foreach (bool withNaN in new[] { false, true })
        {
            var rows = SparseData.Make(7, 203, Slots, withNaN);
            var options = new BatchNormalizingEstimator.Options
            {
                Center = center,
                Momentum = momentum,
                BiasCorrection = biasCorrection,
                UnbiasedRunningVariance = unbiased,
                BatchSize = batchSize,
                InitialRunningMean = 0.25f,
                InitialRunningVariance = 0.75f,
            };

            var sparse = Fit(rows, sparse: true, isDouble, options);
            var dense = Fit(rows, sparse: false, isDouble, options);

            Assert.Equal(dense.BatchCount, sparse.BatchCount);
            Assert.Equal(dense.RowCount, sparse.RowCount);
            Assert.Equal(center, sparse.Centered);
            AssertClose(dense.RunningMean, sparse.RunningMean, $"mean (NaN: {withNaN})");
            AssertClose(dense.RunningVariance, sparse.RunningVariance, $"variance (NaN: {withNaN})");
        }
    }

    [Fact]
    public void FirstRowDense_ThenSparse_StaysOnTheDensePath_WithTheSameStatistics()
    {
        var rows = SparseData.Make(8, 100, Slots, withNaN: true);
        var ml = new MLContext(seed: 1);
        var mixed = SparseData.Floats(ml, rows, Slots, sparse: true);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 10 };
        var mixedRows = rows.Select((r, i) => new SparseData.FloatRow { Features = SparseData.Vector(r, Slots, sparse: i % 3 == 1, v => (float)v) }).ToArray();
        var schema = Microsoft.ML.Data.SchemaDefinition.Create(typeof(SparseData.FloatRow));
        schema[0].ColumnType = new Microsoft.ML.Data.VectorDataViewType(Microsoft.ML.Data.NumberDataViewType.Single, Slots);
        var mixedView = ml.Data.LoadFromEnumerable(mixedRows, schema);

        var fromMixed = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(mixedView).Columns[0];
        var fromSparse = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(mixed).Columns[0];
        AssertClose(fromSparse.RunningMean, fromMixed.RunningMean, "mean");
        AssertClose(fromSparse.RunningVariance, fromMixed.RunningVariance, "variance");
    }

    [Fact]
    public void SparseFirstRow_ThenDenseRows_AreTakenWhole()
    {
        var rows = SparseData.Make(9, 64, Slots, withNaN: false);
        var ml = new MLContext(seed: 1);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 8, Center = false };
        var mixedRows = rows.Select((r, i) => new SparseData.FloatRow { Features = SparseData.Vector(r, Slots, sparse: i % 2 == 0, v => (float)v) }).ToArray();
        var schema = Microsoft.ML.Data.SchemaDefinition.Create(typeof(SparseData.FloatRow));
        schema[0].ColumnType = new Microsoft.ML.Data.VectorDataViewType(Microsoft.ML.Data.NumberDataViewType.Single, Slots);

        var fromMixed = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(ml.Data.LoadFromEnumerable(mixedRows, schema)).Columns[0];
        var fromDense = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(SparseData.Floats(ml, rows, Slots, sparse: false)).Columns[0];
        AssertClose(fromDense.RunningMean, fromMixed.RunningMean, "mean");
        AssertClose(fromDense.RunningVariance, fromMixed.RunningVariance, "variance");
    }

    private static BatchNormalizationParameters Fit((int[] Indices, double[] Values)[] rows, bool sparse, bool isDouble, BatchNormalizingEstimator.Options options)
    {
        var ml = new MLContext(seed: 1);
        var data = isDouble ? SparseData.Doubles(ml, rows, Slots, sparse) : SparseData.Floats(ml, rows, Slots, sparse);
        return ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data).Columns[0];
    }

    internal static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int j = 0; j < expected.Count; j++)
        {
            double tolerance = 1e-12 * (Math.Abs(expected[j]) + 1);
            Assert.True(Math.Abs(expected[j] - actual[j]) <= tolerance, $"{what}, slot {j}: dense {expected[j]:R}, sparse {actual[j]:R}");
        }
    }
}
