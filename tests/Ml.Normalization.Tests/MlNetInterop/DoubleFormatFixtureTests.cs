using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// The committed model of format 0x00010003 (double parameters) loads with every parameter and output exact.
/// </summary>
/// <remarks>
/// Fixtures/batchnormalize-format-00010003.zip was written by <see cref="Write"/> (run this test with
/// ML_NORMALIZATION_WRITE_FIXTURES=1, then commit the file on purpose): a stage built from <see cref="Columns"/>
/// with training batch size 48, saved with an input schema of a Double vector "Timestamps" (3 slots) and a Single
/// vector "Measures" (2 slots). The values are chosen so that none survives a float: means and variances beyond
/// float's range or precision, epsilons that are not floats, and non-default gamma, beta, counts and batch size.
/// </remarks>
public class DoubleFormatFixtureTests
{
    private const string Fixture = "batchnormalize-format-00010003.zip";
    private const int TrainingBatchSize = 48;

    private static readonly BatchNormalizationParameters[] Columns =
    [
        new("Stamps", "Timestamps", runningMean: [1.7000000001234568e18, -2.5e20, 0.1], runningVariance: [1e30, 3e40, 0.01],
            gamma: [1.5, -2, 0.3], beta: [0.1, 1e10, -7], epsilon: 1e-7),
        new("Scaled", "Measures", runningMean: [1.2345678901234567, -98765.4321], runningVariance: [2.5e39, 0.0625],
            gamma: [0.75, 3], beta: [-0.5, 0.125], epsilon: 2e-4),
    ];

    private static readonly double[][] TimestampRows = [[2.2e18, -1.5e20, 0.15], [1.7000000001234568e18, -2.5e20, 0.1], [-3e17, 1e21, -0.4]];

    private static readonly float[][] MeasureRows = [[1.2345679f, -98765.43f], [3e19f, -1e5f], [-7.5f, 0f]];

    [Fact]
    public void Format00010003_LoadsEveryParameter_AndEveryOutput_Exactly()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", Fixture);
        if (Environment.GetEnvironmentVariable("ML_NORMALIZATION_WRITE_FIXTURES") == "1")
        {
            path = Path.Combine(ModelRunnerProcess.RepositoryRoot(), "tests", "Ml.Normalization.Tests", "Fixtures", Fixture);
            Write(path);
        }

        var ml = new MLContext(seed: 1);
        var loaded = ml.Model.Load(path, out var schema);

        var stage = Assert.IsType<BatchNormalizingTransformer>(loaded is TransformerChain<ITransformer> chain ? chain.Single() : loaded);
        Assert.Equal(TrainingBatchSize, stage.TrainingBatchSize);
        Assert.Equal(Columns.Length, stage.Columns.Count);
        for (int i = 0; i < Columns.Length; i++)
        {
            var (expected, actual) = (Columns[i], stage.Columns[i]);
            Assert.Equal((expected.OutputColumnName, expected.InputColumnName), (actual.OutputColumnName, actual.InputColumnName));
            Assert.Equal(expected.RunningMean, actual.RunningMean);
            Assert.Equal(expected.RunningVariance, actual.RunningVariance);
            Assert.Equal(expected.Gamma, actual.Gamma);
            Assert.Equal(expected.Beta, actual.Beta);
            Assert.Equal(expected.Epsilon, actual.Epsilon);
            Assert.Equal((7L, 333L), (actual.BatchCount, actual.RowCount));
        }

        Assert.Equal(NumberDataViewType.Double, ((VectorDataViewType)schema["Timestamps"].Type).ItemType);
        Assert.Equal(NumberDataViewType.Single, ((VectorDataViewType)schema["Measures"].Type).ItemType);

        var output = loaded.Transform(ml.Data.LoadFromEnumerable(Inputs(), Input.Schema()));
        var stamps = output.GetColumn<VBuffer<double>>("Stamps").Select(v => v.DenseValues().ToArray()).ToArray();
        var scaled = output.GetColumn<VBuffer<float>>("Scaled").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.Equal(TimestampRows.Select(r => r.Select((x, j) => DoubleOutput(Columns[0], j, x))), stamps);
        Assert.Equal(MeasureRows.Select(r => r.Select((x, j) => SingleOutput(Columns[1], j, x))), scaled);
        Assert.Equal(Columns[0].Beta[0], stamps[1][0]); // a value equal to the running mean maps to beta exactly
    }

    // The transform's arithmetic, written out: constants computed in double, rounded once to the column's type.
    private static double DoubleOutput(BatchNormalizationParameters p, int j, double x) =>
        ((x - p.RunningMean[j]) * (p.Gamma[j] / Math.Sqrt(p.RunningVariance[j] + p.Epsilon))) + p.Beta[j];

    private static float SingleOutput(BatchNormalizationParameters p, int j, float x) =>
        ((x - (float)p.RunningMean[j]) * (float)(p.Gamma[j] / Math.Sqrt(p.RunningVariance[j] + p.Epsilon))) + (float)p.Beta[j];

    private static void Write(string path)
    {
        var columns = Columns.Select(c => new BatchNormalizationParameters(c.OutputColumnName, c.InputColumnName, [.. c.RunningMean], [.. c.RunningVariance],
            [.. c.Gamma], [.. c.Beta], c.Epsilon, batchCount: 7, rowCount: 333)).ToArray();
        var ml = new MLContext(seed: 1);
        ml.Model.Save(new BatchNormalizingTransformer(columns, TrainingBatchSize), ml.Data.LoadFromEnumerable(Inputs(), Input.Schema()).Schema, path);
    }

    private static Input[] Inputs() => [.. TimestampRows.Select((t, i) => new Input { Timestamps = t, Measures = MeasureRows[i] })];

    private sealed class Input
    {
        public double[] Timestamps { get; set; } = [];

        public float[] Measures { get; set; } = [];

        public static SchemaDefinition Schema()
        {
            var schema = SchemaDefinition.Create(typeof(Input));
            schema[nameof(Timestamps)].ColumnType = new VectorDataViewType(NumberDataViewType.Double, 3);
            schema[nameof(Measures)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2);
            return schema;
        }
    }
}
