using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// Per-channel BatchNormalize on 3 x 224 x 224 images (what ExtractPixels gives a 224-pixel model): Fit, and Transform
/// plus reading every output row, against merely cursoring the input column (the baseline). Issue 12's goal: each at
/// 1.3x or less of the baseline; the fit's allocations the same at 256 and 1024 rows.
/// </summary>
/// <remarks>In process (no generated project to build: the 2-core machine timed out building one under load).</remarks>
[MemoryDiagnoser]
[Config(typeof(InProcessConfig))]
public class ChannelBenchmarks
{
    private const int Channels = 3;
    private const int Side = 224;
    private MLContext _ml = null!;
    private IDataView _data = null!;
    private ITransformer _model = null!;

    [Params(ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast)]
    public ChannelLayout Layout { get; set; }

    [Params(256, 1024)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        var random = new Random(42);
        var rows = new BenchData.Row[Rows];
        for (int i = 0; i < rows.Length; i++)
        {
            var values = new float[Channels * Side * Side];
            for (int j = 0; j < values.Length; j++)
            {
                values[j] = random.Next(256) / 255f;
            }

            rows[i] = new BenchData.Row { Features = values };
        }

        var schema = SchemaDefinition.Create(typeof(BenchData.Row));
        schema[0].ColumnType = Layout == ChannelLayout.ChannelsFirst
            ? new VectorDataViewType(NumberDataViewType.Single, Channels, Side, Side)
            : new VectorDataViewType(NumberDataViewType.Single, Side, Side, Channels);
        _data = _ml.Data.LoadFromEnumerable(rows, schema);
        _model = Estimator().Fit(_data);
    }

    [Benchmark(Baseline = true, Description = "Cursor the input")]
    public float CursorInput() => BenchData.Drain(_data, "Features");

    [Benchmark(Description = "Per-channel BatchNormalize: Fit")]
    public object Fit() => Estimator().Fit(_data);

    [Benchmark(Description = "Per-channel BatchNormalize: Transform + cursor")]
    public float Transform() => BenchData.Drain(_model.Transform(_data), "Out");

    private BatchNormalizingEstimator Estimator() =>
        _ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], new BatchNormalizingEstimator.Options { ChannelLayout = Layout });
}

/// <summary>A short in-process job: 2 warm-up and 6 measured iterations.</summary>
public sealed class InProcessConfig : ManualConfig
{
    public InProcessConfig() =>
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(6));
}
