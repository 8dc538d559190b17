using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// Issue 13: a wide sparse column (1,000,000 slots, 50 non-zeros per row, 100,000 rows in memory). Scale-only
/// BatchNormalize (<c>Center = false</c>) beside ML.NET's <c>NormalizeMeanVariance(fixZero: true)</c>, which also scales
/// without centering: Fit, and Transform plus reading every output row through a cursor. The baseline merely cursors
/// the input. Goal: scale-only fit and transform + cursor each within 2x of the baseline and at least 5x faster than
/// NormalizeMeanVariance. ML.NET's fit is far too slow for this shape (about 5 minutes for 200 rows on the 2-core
/// machine), so it is measured separately on 200 rows by <see cref="WideMeanVarianceBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class SparseBenchmarks
{
    private const int Slots = 1_000_000;
    private const int NonZeros = 50;

    private MLContext _ml = null!;
    private IDataView _data = null!;
    private ITransformer _scaleOnly = null!;

    [Params(100_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        _data = SparseVectors(_ml, Rows, Slots, NonZeros);
        _scaleOnly = ScaleOnlyEstimator().Fit(_data);
    }

    [Benchmark(Baseline = true, Description = "Cursor the input")]
    public float CursorInput() => Drain(_data, "Features");

    [Benchmark(Description = "BatchNormalize scale-only: Fit")]
    public object ScaleOnlyFit() => ScaleOnlyEstimator().Fit(_data);

    [Benchmark(Description = "BatchNormalize scale-only: Transform + cursor")]
    public float ScaleOnlyTransform() => Drain(_scaleOnly.Transform(_data), "Out");

    private BatchNormalizingEstimator ScaleOnlyEstimator() =>
        _ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], new BatchNormalizingEstimator.Options { Center = false });

    public sealed class Row
    {
        public VBuffer<float> Features { get; set; }
    }

    /// <summary>Rows of <paramref name="nonZeros"/> distinct random slots each (ascending), values uniform in [-3, 7).</summary>
    public static IDataView SparseVectors(MLContext ml, int rows, int slots, int nonZeros, int seed = 42)
    {
        var random = new Random(seed);
        var data = new Row[rows];
        var picked = new HashSet<int>();
        for (int i = 0; i < rows; i++)
        {
            picked.Clear();
            while (picked.Count < nonZeros)
            {
                picked.Add(random.Next(slots));
            }

            var indices = picked.Order().ToArray();
            var values = new float[nonZeros];
            for (int k = 0; k < nonZeros; k++)
            {
                values[k] = (float)((random.NextDouble() * 10) - 3);
            }

            data[i] = new Row { Features = new VBuffer<float>(slots, nonZeros, values, indices) };
        }

        var schema = SchemaDefinition.Create(typeof(Row));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, slots);
        return ml.Data.LoadFromEnumerable(data, schema);
    }

    /// <summary>Reads every row of <paramref name="column"/> through one cursor; a checksum of the explicit values.</summary>
    public static float Drain(IDataView view, string column)
    {
        var col = view.Schema[column];
        using var cursor = view.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> buffer = default;
        float sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            var values = buffer.GetValues();
            sum += values.Length > 0 ? values[0] : 0;
        }

        return sum;
    }
}

/// <summary>
/// ML.NET's <c>NormalizeMeanVariance(fixZero: true)</c> on the 1,000,000-slot sparse column of <see cref="SparseBenchmarks"/>,
/// on 200 rows: its fit takes minutes there (run it on its own: <c>--filter '*WideMeanVariance*'</c>).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 0, iterationCount: 1)]
public class WideMeanVarianceBenchmarks
{
    private MLContext _ml = null!;
    private IDataView _data = null!;
    private ITransformer _meanVariance = null!;

    [Params(200)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        _data = SparseBenchmarks.SparseVectors(_ml, Rows, 1_000_000, 50);
        _meanVariance = _ml.Transforms.NormalizeMeanVariance("Out", "Features", fixZero: true).Fit(_data);
    }

    [Benchmark(Description = "NormalizeMeanVariance(fixZero): Fit")]
    public object MeanVarianceFit() => _ml.Transforms.NormalizeMeanVariance("Out", "Features", fixZero: true).Fit(_data);

    [Benchmark(Description = "NormalizeMeanVariance(fixZero): Transform + cursor")]
    public float MeanVarianceTransform() => SparseBenchmarks.Drain(_meanVariance.Transform(_data), "Out");
}
