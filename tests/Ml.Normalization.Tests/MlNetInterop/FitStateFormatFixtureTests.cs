using Microsoft.ML;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// The committed model of format 0x00010005 (per-channel statistics and the fit state) loads with its layout and
/// statistics exact, scores as a fresh fit does, and continues its fit as the fit it was saved from.
/// </summary>
/// <remarks>
/// Fixtures/batchnormalize-format-00010005.zip was written by Write (run these tests with
/// ML_NORMALIZATION_WRITE_FIXTURES=1, then commit the file on purpose): whole-data statistics of 8 rows of 2 channels x
/// 3 positions (channels last), where channel 0 takes 1 and 3 and channel 1 takes -4 and 4 equally often, so its
/// statistics are exact: means 2 and 0, variances 1 and 16.
/// </remarks>
public class FitStateFormatFixtureTests
{
    private const string Fixture = "batchnormalize-format-00010005.zip";

    [Fact]
    public void Fixture_Loads_WithItsChannelsAndExactStatistics()
    {
        var loaded = Load();

        var p = loaded.Columns[0];
        Assert.Equal(ChannelLayout.ChannelsLast, p.ChannelLayout);
        Assert.Equal([2.0, 0.0], p.RunningMean);
        Assert.Equal([1.0, 16.0], p.RunningVariance);
        Assert.Equal(2, p.BatchCount);
        Assert.Equal(8, p.RowCount);
        var ml = new MLContext(seed: 1);
        Assert.Equal(ModelIo.Dump(Estimator(ml).Fit(ModelIo.ToView(ml, Rows(8))).Transform(ModelIo.ToView(ml, Rows(3)))),
            ModelIo.Dump(loaded.Transform(ModelIo.ToView(ml, Rows(3)))));
    }

    [Fact]
    public void Fixture_ContinuesItsFit_AsTheFitItWasSavedFrom()
    {
        var ml = new MLContext(seed: 1);
        var more = ModelIo.ToView(ml, Rows(12).Skip(8).Select(r => r.Select(v => v * 1.5f).ToArray()).ToArray());

        var continued = Estimator(ml).Fit(more, Load());
        var fresh = Estimator(ml).Fit(more, Estimator(ml).Fit(ModelIo.ToView(ml, Rows(8))));

        Assert.Equal(fresh.Columns[0].RunningMean, continued.Columns[0].RunningMean);
        Assert.Equal(fresh.Columns[0].RunningVariance, continued.Columns[0].RunningVariance);
        Assert.Equal(12, continued.Columns[0].RowCount);
    }

    private static void Write()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows(8));
        using var stream = new MemoryStream();
        ml.Model.Save(Estimator(ml).Fit(data), data.Schema, stream);
        Assert.Equal(0x00010005u, StageEntry.FormatVersion(stream.ToArray(), "MLNBNORM"));
        File.WriteAllBytes(Path.Combine(ModelRunnerProcess.RepositoryRoot(), "tests", "Ml.Normalization.Tests", "Fixtures", Fixture), stream.ToArray());
        File.WriteAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", Fixture), stream.ToArray()); // the copy this run reads
    }

    private static BatchNormalizingEstimator Estimator(MLContext ml) => ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Features")],
        new BatchNormalizingEstimator.Options { BatchSize = 4, WholeDataStatistics = true, ChannelLayout = ChannelLayout.ChannelsLast, ChannelCount = 2 });

    /// <summary>Rows of [position, channel]: channel 0 alternates 1 and 3, channel 1 alternates -4 and 4, over a row and down the rows.</summary>
    private static float[][] Rows(int count) => Enumerable.Range(0, count)
        .Select(r => Enumerable.Range(0, 6).Select(j => (j % 2 == 0 ? 2f : 0f) + (((r + (j / 2)) % 2 == 0 ? 1f : -1f) * (j % 2 == 0 ? 1f : 4f))).ToArray())
        .ToArray();

    private static BatchNormalizingTransformer Load()
    {
        if (Environment.GetEnvironmentVariable("ML_NORMALIZATION_WRITE_FIXTURES") == "1")
        {
            Write(); // the fixture is committed; it is written again only on request
        }

        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", Fixture));
        Assert.Equal(0x00010005u, StageEntry.FormatVersion(bytes, "MLNBNORM"));
        return Assert.IsType<BatchNormalizingTransformer>(new MLContext(seed: 1).Model.Load(new MemoryStream(bytes), out _));
    }
}
