using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// torchvision's ImageNet Normalize on 3 x 224 x 224 images, Transform plus reading every output row: the divide form
/// a pure standardization takes (<c>FromMeanAndStd</c>: <c>(x - mean) / std</c>, bit for bit torchvision's) against
/// the multiply form of the same statistics (<c>(x - mean) * (1 / std) + 0</c>: epsilon 1e-300, which leaves every
/// <c>sqrt(variance + epsilon)</c> unchanged but is no pure standardization), and merely cursoring the input; and the
/// two kernels alone on the planes of 4 channels-first images (NormalizePlane against StandardizePlane), where the
/// division's cost is not hidden behind the cursor.
/// </summary>
/// <remarks>In process, as <see cref="ChannelBenchmarks"/>. Each category has its own baseline, the multiply.</remarks>
[MemoryDiagnoser]
[Config(typeof(InProcessConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class StandardizeBenchmarks
{
    private const int Channels = 3;
    private const int Side = 224;
    private static readonly double[] Mean = [0.485, 0.456, 0.406];
    private static readonly double[] Std = [0.229, 0.224, 0.225];
    private IDataView _data = null!;
    private ITransformer _divide = null!;
    private ITransformer _multiply = null!;
    private float[] _images = [];
    private float[] _output = [];

    [Params(ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast)]
    public ChannelLayout Layout { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(42);
        var rows = new BenchData.Row[256];
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
        _data = ml.Data.LoadFromEnumerable(rows, schema);
        _divide = ml.Transforms.BatchNormalize(BatchNormalizationParameters.FromMeanAndStd("Out", "Features", Layout, Mean, Std)).Fit(_data);
        _multiply = ml.Transforms.BatchNormalize(BatchNormalizationParameters.ForChannels("Out", "Features", Layout, Mean,
            Std.Select(s => s * s).ToArray(), epsilon: 1e-300)).Fit(_data);
        _images = [.. rows.Take(4).SelectMany(r => r.Features)];
        _output = new float[_images.Length];
    }

    [Benchmark(Description = "Cursor the input")]
    [BenchmarkCategory("Transform + cursor")]
    public float CursorInput() => BenchData.Drain(_data, "Features");

    [Benchmark(Baseline = true, Description = "Multiply: (x - mean) * (1 / std) + 0")]
    [BenchmarkCategory("Transform + cursor")]
    public float Multiply() => BenchData.Drain(_multiply.Transform(_data), "Out");

    [Benchmark(Description = "Divide: FromMeanAndStd, (x - mean) / std")]
    [BenchmarkCategory("Transform + cursor")]
    public float Divide() => BenchData.Drain(_divide.Transform(_data), "Out");

    [Benchmark(Baseline = true, Description = "NormalizePlane, 12 planes of 224 x 224")]
    [BenchmarkCategory("Kernel")]
    public void NormalizePlanes()
    {
        const int plane = Side * Side;
        for (int k = 0; k < _images.Length / plane; k++)
        {
            int c = k % Channels;
            NormalizationKernels.NormalizePlane<float>(_images.AsSpan(k * plane, plane), (float)Mean[c], (float)(1 / Std[c]), 0f, _output.AsSpan(k * plane, plane));
        }
    }

    [Benchmark(Description = "StandardizePlane, 12 planes of 224 x 224")]
    [BenchmarkCategory("Kernel")]
    public void StandardizePlanes()
    {
        const int plane = Side * Side;
        for (int k = 0; k < _images.Length / plane; k++)
        {
            int c = k % Channels;
            NormalizationKernels.StandardizePlane<float>(_images.AsSpan(k * plane, plane), (float)Mean[c], (float)Std[c], _output.AsSpan(k * plane, plane));
        }
    }
}
