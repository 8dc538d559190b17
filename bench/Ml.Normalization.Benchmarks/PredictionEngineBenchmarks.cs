using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Benchmarks;

/// <summary>PredictionEngine.Predict for one row of 64 slots: BatchNormalize beside NormalizeMeanVariance.</summary>
[MemoryDiagnoser]
public class PredictionEngineBenchmarks
{
    private PredictionEngine<BenchData.Row, Output> _batchNormalize = null!;
    private PredictionEngine<BenchData.Row, Output> _meanVariance = null!;
    private BenchData.Row _row = null!;

    public sealed class Output
    {
        public float[] Out { get; set; } = [];
    }

    [GlobalSetup]
    public void Setup()
    {
        var ml = new MLContext(seed: 1);
        var data = BenchData.Vectors(ml, 10_000, 64);
        var schema = SchemaDefinition.Create(typeof(BenchData.Row));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 64);
        _batchNormalize = ml.Model.CreatePredictionEngine<BenchData.Row, Output>(ml.Transforms.BatchNormalize("Out", "Features").Fit(data), inputSchemaDefinition: schema);
        _meanVariance = ml.Model.CreatePredictionEngine<BenchData.Row, Output>(ml.Transforms.NormalizeMeanVariance("Out", "Features", fixZero: false).Fit(data), inputSchemaDefinition: schema);
        _row = new BenchData.Row { Features = Enumerable.Range(0, 64).Select(i => (float)i).ToArray() };
    }

    [Benchmark(Baseline = true, Description = "NormalizeMeanVariance: Predict")]
    public float[] MeanVariance() => _meanVariance.Predict(_row).Out;

    [Benchmark(Description = "BatchNormalize: Predict")]
    public float[] BatchNormalize() => _batchNormalize.Predict(_row).Out;
}
