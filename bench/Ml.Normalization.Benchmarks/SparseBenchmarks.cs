using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// Issue 13: a wide sparse column (1,000,000 slots, 50 non-zeros per row, 100,000 rows in memory). Scale-only
/// BatchNormalize (<c>Center = false</c>) beside ML.NET's <c>NormalizeMeanVariance(fixZero: true)</c>, which also scales
/// without centering: Fit, and Transform plus reading every output row through a cursor. The baseline merely cursors
/// the input. Goal: scale-only fit and transform + cursor each within 2x of the baseline and at least 5x faster than
/// NormalizeMeanVariance. ML.NET's fit is far too slow for this shape (about 5 minutes for 200 rows on the 2-core
/// machine), so it is measured separately on 200 rows by <see cref="WideMeanVarianceBenchmarks"/>.
/// </summary>
/// <remarks>
/// Two floors run beside them, in the same process on the same rows: the cursor plus the least memory work any
/// O(non-zeros) stage must do per non-zero on a per-slot table of this width. "Floor: + gather" multiplies each value
/// by its slot's entry of a float table (what a scale-only transform must read); "Floor: + slot update" adds each value
/// to its slot's 64-byte record, the row's records prefetched first (what a fit that keeps any per-slot state must
/// write). If a floor is already above 2x, so is every implementation of that stage on this machine. "Cursor the
/// input + check its indices" is the baseline plus <see cref="SparseIndices.Check"/> alone: what refusing malformed rows
/// costs (issue 19).
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class SparseBenchmarks
{
    private const int NonZeros = 50;

    private MLContext _ml = null!;
    private IDataView _data = null!;
    private ITransformer _scaleOnly = null!;
    private float[] _table = null!;
    private FloorSlotRecord[] _records = null!;

    [Params(100_000)]
    public int Rows { get; set; }

    [Params(10_000, 1_000_000)]
    public int Slots { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        _data = SparseVectors(_ml, Rows, Slots, NonZeros);
        _scaleOnly = ScaleOnlyEstimator().Fit(_data);
        _table = Enumerable.Range(0, Slots).Select(j => 1f + (j % 7)).ToArray();
        _records = new FloorSlotRecord[Slots];
    }

    [Benchmark(Baseline = true, Description = "Cursor the input")]
    public float CursorInput() => BenchData.Drain(_data, "Features");

    [Benchmark(Description = "Floor: cursor + gather a per-slot float per non-zero")]
    public float FloorGather()
    {
        var table = _table;
        return DrainRows(_data, "Features", (values, indices, output) =>
        {
            for (int i = 0; i < values.Length; i++)
            {
                output[i] = values[i] * table[indices[i]];
            }
        });
    }

    [Benchmark(Description = "Floor: cursor + update a 64-byte slot record per non-zero")]
    public float FloorSlotUpdate()
    {
        var records = _records;
        return DrainRows(_data, "Features", (values, indices, _) =>
        {
            GatherPrefetch.Entries(records, indices);
            for (int i = 0; i < values.Length; i++)
            {
                ref var record = ref records[indices[i]];
                double x = values[i];
                record.Sum += x;
                record.SumOfSquares += x * x;
            }
        });
    }

    [Benchmark(Description = "Cursor the input + check its indices")]
    public float CursorAndCheckIndices()
    {
        // "Cursor the input" (BenchData.Drain) with SparseIndices.Check added, and nothing else.
        var col = _data.Schema["Features"];
        using var cursor = _data.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> buffer = default;
        float sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            SparseIndices.Check(buffer.GetIndices(), buffer.Length, "Features");
            var values = buffer.GetValues();
            sum += values.Length > 0 ? values[0] : 0;
        }

        return sum;
    }

    [Benchmark(Description = "BatchNormalize scale-only: Fit")]
    public object ScaleOnlyFit() => ScaleOnlyEstimator().Fit(_data);

    [Benchmark(Description = "BatchNormalize scale-only: Transform + cursor")]
    public float ScaleOnlyTransform() => BenchData.Drain(_scaleOnly.Transform(_data), "Out");

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

    internal delegate void RowWork(ReadOnlySpan<float> values, ReadOnlySpan<int> indices, Span<float> output);

    // Cursors every row of a sparse column and hands its explicit values and indices to the work, with an output buffer.
    internal static float DrainRows(IDataView view, string column, RowWork work)
    {
        var col = view.Schema[column];
        using var cursor = view.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> buffer = default;
        var output = new float[NonZeros];
        float sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            var values = buffer.GetValues();
            work(values, buffer.GetIndices(), output);
            sum += values.Length > 0 ? output[0] : 0;
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
    public float MeanVarianceTransform() => BenchData.Drain(_meanVariance.Transform(_data), "Out");
}

/// <summary>
/// Transform + cursor of the 1,000,000-slot sparse column (100,000 rows) by ML.NET's
/// <c>NormalizeMeanVariance(fixZero: true)</c> and by scale-only BatchNormalize, beside the bare cursor. ML.NET's fit
/// takes about 1.5 s per row on this column, so its transformer is fitted on the first 2 rows only: its transform's
/// speed does not depend on the statistics (every slot is scaled, zeros stay implicit).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class WideMeanVarianceTransformBenchmarks
{
    private IDataView _data = null!;
    private ITransformer _meanVariance = null!;
    private ITransformer _scaleOnly = null!;

    [GlobalSetup]
    public void Setup()
    {
        var ml = new MLContext(seed: 1);
        _data = SparseBenchmarks.SparseVectors(ml, 100_000, 1_000_000, 50);
        _meanVariance = ml.Transforms.NormalizeMeanVariance("Out", "Features", fixZero: true).Fit(ml.Data.TakeRows(_data, 2));
        _scaleOnly = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], new BatchNormalizingEstimator.Options { Center = false }).Fit(_data);
    }

    [Benchmark(Baseline = true, Description = "Cursor the input")]
    public float CursorInput() => BenchData.Drain(_data, "Features");

    [Benchmark(Description = "BatchNormalize scale-only: Transform + cursor")]
    public float ScaleOnlyTransform() => BenchData.Drain(_scaleOnly.Transform(_data), "Out");

    [Benchmark(Description = "NormalizeMeanVariance(fixZero): Transform + cursor")]
    public float MeanVarianceTransform() => BenchData.Drain(_meanVariance.Transform(_data), "Out");
}
