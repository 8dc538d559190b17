using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// Model files saved by every version of each stage's format keep loading, with every stored field. Fixtures/ holds one
/// file per format version, each with values that no other field or default shares, so a reader that skipped or
/// swapped a field fails. Set ML_NORMALIZATION_WRITE_FIXTURES=1 to rewrite a fixture from its generator below (then
/// commit it on purpose); a generator refuses when the code no longer writes its file's version.
/// </summary>
public class ModelFormatFixtureTests
{
    private const string BatchNormalize00010001 = "batchnormalize-format-00010001.zip";
    private const string BatchNormalize00010002 = "batchnormalize-format-00010002.zip";
    private const string Dropout00010001 = "dropout-format-00010001.zip";

    // The 0x00010001 fixture was saved from these (it predates the generators below; its batch and row counts are 0).
    private static readonly BatchNormalizationParameters KnownParameters =
        new("Normalized", "Features", runningMean: [1f, -2f, 0.5f, 100f], runningVariance: [4f, 0.25f, 1f, 9f], gamma: [1f, 2f, 0.5f, 1f], beta: [0f, 1f, -1f, 0.25f], epsilon: 1e-3f);

    [Fact]
    public void BatchNormalize_Format00010001_LoadsItsParameters_AndNoTrainingBatchSize()
    {
        var (stage, loaded) = LoadStage<BatchNormalizingTransformer>(BatchNormalize00010001, "MLNBNORM", 0x00010001);

        var p = Assert.Single(stage.Columns);
        Assert.Equal(("Normalized", "Features"), (p.OutputColumnName, p.InputColumnName));
        Assert.Equal(KnownParameters.RunningMean, p.RunningMean);
        Assert.Equal(KnownParameters.RunningVariance, p.RunningVariance);
        Assert.Equal(KnownParameters.Gamma, p.Gamma);
        Assert.Equal(KnownParameters.Beta, p.Beta);
        Assert.Equal(KnownParameters.Epsilon, p.Epsilon);
        Assert.Equal((0L, 0L), (p.BatchCount, p.RowCount));
        Assert.Equal(0, stage.TrainingBatchSize); // the format has no such field

        var output = Normalize(loaded, [3f, -1f, 0.5f, 97f]);
        Assert.Equal(2 / Math.Sqrt(4.001), output[0], 5);
        Assert.Equal((2 / Math.Sqrt(0.251)) + 1, output[1], 5);
        Assert.Equal(-1.0, output[2], 5);
        Assert.Equal((-3 / Math.Sqrt(9.001)) + 0.25, output[3], 5);
    }

    [Fact]
    public void BatchNormalize_Format00010002_LoadsItsParameters_AndTrainingBatchSize()
    {
        if (WriteRequested)
        {
            WriteBatchNormalize00010002();
        }

        var (stage, loaded) = LoadStage<BatchNormalizingTransformer>(BatchNormalize00010002, "MLNBNORM", 0x00010002);

        var p = Assert.Single(stage.Columns);
        Assert.Equal(("Normalized", "Features"), (p.OutputColumnName, p.InputColumnName));
        Assert.Equal([3f, -2f, 0.5f, 101f], p.RunningMean);
        Assert.Equal([2f, 0.25f, 9f, 12f], p.RunningVariance);
        Assert.Equal([0.5f, 2f, -1.5f, 3f], p.Gamma);
        Assert.Equal([0.25f, -1f, 4f, 0.125f], p.Beta);
        Assert.Equal(2e-3f, p.Epsilon);
        Assert.Equal((3L, 18L), (p.BatchCount, p.RowCount));
        Assert.Equal(6, stage.TrainingBatchSize);

        var output = Normalize(loaded, [3f, -1f, 0.5f, 97f]);
        Assert.Equal(0.25, output[0], 5);
        Assert.Equal((2 / Math.Sqrt(0.252)) - 1, output[1], 5);
        Assert.Equal(4.0, output[2], 5);
        Assert.Equal((-12 / Math.Sqrt(12.002)) + 0.125, output[3], 5);
    }

    [Fact]
    public void Dropout_Format00010001_LoadsPSeedAndKind_AndScoresAndDropsAsSaved()
    {
        if (WriteRequested)
        {
            WriteDropout00010001();
        }

        var (stage, loaded) = LoadStage<DropoutTransformer>(Dropout00010001, "MLNDROPO", 0x00010001);

        Assert.Equal([new InputOutputColumnPair("Dropped", "Features")], stage.ColumnPairs, PairComparer.Instance);
        Assert.Equal((0.375f, 12345, DropoutKind.Standard), (stage.DropProbability, stage.Seed, stage.Kind));

        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(seed: 4, rows: 200, size: 4, mean: 3, std: 1);
        var data = ModelIo.ToView(ml, rows);
        var scored = TestData.ReadVectors(loaded.Transform(data), "Dropped");
        Assert.Equal(rows.Select(r => r.Select(x => x * 0.625f).ToArray()), scored); // scoring: x * (1 - p)

        // The training masks are a function of the seed: a stage made now with the stored seed drops the same values.
        var fresh = ml.Transforms.Dropout([new InputOutputColumnPair("Dropped", "Features")],
            new DropoutEstimator.Options { DropProbability = 0.375f, Seed = 12345, Kind = DropoutKind.Standard }).Fit(data);
        var dropped = TestData.ReadVectors(stage.TransformForTraining(data), "Dropped");
        Assert.Equal(TestData.ReadVectors(fresh.TransformForTraining(data), "Dropped"), dropped);
        double zeros = dropped.Sum(r => r.Count(v => v == 0f)) / 800.0;
        Assert.InRange(zeros, 0.375 - (4 * 0.0171), 0.375 + (4 * 0.0171)); // sd of 800 draws at p = 0.375: 0.0171
    }

    /// <summary>
    /// How <see cref="BatchNormalize00010002"/> was produced: a fit of 18 rows in 3 mini-batches of 6 with a plain
    /// average of the batches, so every statistic is exact (per slot, each batch's rows alternate c + d and c - d).
    /// </summary>
    private static void WriteBatchNormalize00010002()
    {
        float[][] centres = [[1f, -2f, 0f, 100f], [2f, -2f, 0.5f, 101f], [6f, -2f, 1f, 102f]];
        float[][] spreads = [[1f, 0.5f, 3f, 2f], [1f, 0.5f, 3f, 4f], [2f, 0.5f, 3f, 4f]];
        var rows = Enumerable.Range(0, 18)
            .Select(r => centres[r / 6].Select((c, j) => r % 2 == 0 ? c + spreads[r / 6][j] : c - spreads[r / 6][j]).ToArray())
            .ToArray();
        var options = new BatchNormalizingEstimator.Options
        {
            BatchSize = 6,
            Momentum = null,
            Epsilon = 2e-3f,
            Gamma = [0.5f, 2f, -1.5f, 3f],
            Beta = [0.25f, -1f, 4f, 0.125f],
            BatchStatisticsInTraining = true,
        };
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, rows);
        Write(ml, ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Features")], options).Fit(data), data, BatchNormalize00010002, "MLNBNORM", 0x00010002);
    }

    /// <summary>How <see cref="Dropout00010001"/> was produced: standard dropout, p = 0.375, seed 12345.</summary>
    private static void WriteDropout00010001()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, [[0f, 0f, 0f, 0f]]);
        var options = new DropoutEstimator.Options { DropProbability = 0.375f, Seed = 12345, Kind = DropoutKind.Standard };
        Write(ml, ml.Transforms.Dropout([new InputOutputColumnPair("Dropped", "Features")], options).Fit(data), data, Dropout00010001, "MLNDROPO", 0x00010001);
    }

    private static bool WriteRequested => Environment.GetEnvironmentVariable("ML_NORMALIZATION_WRITE_FIXTURES") == "1";

    private static void Write(MLContext ml, ITransformer model, IDataView data, string fixture, string signature, uint version)
    {
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        var bytes = stream.ToArray();
        Assert.True(StageEntry.FormatVersion(bytes, signature) == version, $"The code no longer writes format {version:X8}: {fixture} cannot be regenerated.");
        File.WriteAllBytes(Path.Combine(ModelRunnerProcess.RepositoryRoot(), "tests", "Ml.Normalization.Tests", "Fixtures", fixture), bytes);
        File.WriteAllBytes(FixturePath(fixture), bytes); // the copy this test run reads
    }

    private static (T Stage, ITransformer Loaded) LoadStage<T>(string fixture, string signature, uint version)
        where T : class, ITransformer
    {
        var bytes = File.ReadAllBytes(FixturePath(fixture));
        Assert.Equal(version, StageEntry.FormatVersion(bytes, signature)); // the file is the version its name says
        var loaded = new MLContext(seed: 1).Model.Load(new MemoryStream(bytes), out var schema);
        Assert.Contains(schema, c => c.Name == "Features");
        return (Assert.IsType<T>(loaded is TransformerChain<ITransformer> chain ? chain.Single() : loaded), loaded);
    }

    private static string FixturePath(string fixture) => Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);

    private static float[] Normalize(ITransformer model, float[] row) =>
        TestData.ReadVectors(model.Transform(ModelIo.ToView(new MLContext(seed: 1), [row])), "Normalized")[0];

    private sealed class PairComparer : IEqualityComparer<InputOutputColumnPair>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals(InputOutputColumnPair? x, InputOutputColumnPair? y) =>
            (x?.OutputColumnName, x?.InputColumnName) == (y?.OutputColumnName, y?.InputColumnName);

        public int GetHashCode(InputOutputColumnPair obj) => HashCode.Combine(obj.OutputColumnName, obj.InputColumnName);
    }
}
