using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// <c>estimator.Fit(newData, previous)</c> continues a fit: fitting A and continuing on B equals fitting A+B, bit for bit,
/// when A's row count is a multiple of the batch size, also from a model saved and loaded in between.
/// </summary>
public class ContinueFitTests
{
    private const int Slots = 5;
    private const int BatchSize = 16;

    public static TheoryData<string> Modes => new() { "momentum", "momentum-unbiased-no-correction", "average", "whole-data", "whole-data-unbiased", "channels" };

    [Theory]
    [MemberData(nameof(Modes))]
    public void AThenB_EqualsAPlusB_BitForBit(string mode)
    {
        var ml = new MLContext(seed: 1);
        var (a, b, all) = Data(ml, rowsA: 3 * BatchSize, rowsB: 37);
        var estimator = Estimator(ml, mode);

        var continued = estimator.Fit(b, estimator.Fit(a));
        var whole = estimator.Fit(all);

        AssertSameFit(whole, continued);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void AThenB_FromASavedAndLoadedModel_EqualsAPlusB_BitForBit(string mode)
    {
        var ml = new MLContext(seed: 1);
        var (a, b, all) = Data(ml, rowsA: 2 * BatchSize, rowsB: 50);
        var estimator = Estimator(ml, mode);
        using var stream = new MemoryStream();
        ml.Model.Save(estimator.Fit(a), a.Schema, stream);
        stream.Position = 0;
        var loaded = (BatchNormalizingTransformer)new MLContext(seed: 2).Model.Load(stream, out _);

        AssertSameFit(estimator.Fit(all), estimator.Fit(b, loaded));
    }

    [Fact]
    public void FromGivenParameters_StartsFromTheirStatistics_AsInitialValues()
    {
        var ml = new MLContext(seed: 1);
        var (_, b, _) = Data(ml, rowsA: BatchSize, rowsB: 40);
        var given = new BatchNormalizationParameters("Normalized", "Features", Enumerable.Repeat(2.0, Slots).ToArray(), Enumerable.Repeat(3.0, Slots).ToArray());
        var options = new BatchNormalizingEstimator.Options { BatchSize = BatchSize, Momentum = 0.8f };

        var continued = Estimator(ml, options).Fit(b, ml.Transforms.BatchNormalize(given).Fit(b));
        var fresh = Estimator(ml, new BatchNormalizingEstimator.Options { BatchSize = BatchSize, Momentum = 0.8f, InitialRunningMean = 2, InitialRunningVariance = 3 }).Fit(b);

        AssertSameFit(fresh, continued);
    }

    [Fact]
    public void OtherStatisticsOptions_Throw_NamingTheOption()
    {
        var ml = new MLContext(seed: 1);
        var (a, b, _) = Data(ml, rowsA: BatchSize, rowsB: 20);
        var previous = Estimator(ml, "momentum").Fit(a);

        var ex = Assert.Throws<ArgumentException>(() => Estimator(ml, new BatchNormalizingEstimator.Options { BatchSize = BatchSize, Momentum = 0.5 }).Fit(b, previous));

        Assert.Equal("previous", ex.ParamName);
        Assert.StartsWith("The previous fit used Momentum = 0.9, this estimator 0.5", ex.Message); // the values as written
        Assert.Contains("WholeDataStatistics", Assert.Throws<ArgumentException>(() => Estimator(ml, "whole-data").Fit(b, previous)).Message);
    }

    [Fact]
    public void OtherColumns_Throw()
    {
        var ml = new MLContext(seed: 1);
        var (a, b, _) = Data(ml, rowsA: BatchSize, rowsB: 20);
        var previous = Estimator(ml, "average").Fit(a);

        var ex = Assert.Throws<ArgumentException>(() =>
            ml.Transforms.BatchNormalize([new InputOutputColumnPair("Other", "Features")], new BatchNormalizingEstimator.Options { Momentum = null }).Fit(b, previous));

        Assert.Equal("previous", ex.ParamName);
        Assert.Contains("'Normalized' from 'Features', this estimator's 'Other' from 'Features'", ex.Message);
    }

    internal static BatchNormalizingEstimator Estimator(MLContext ml, string mode) => Estimator(ml, mode switch
    {
        "momentum" => new BatchNormalizingEstimator.Options { BatchSize = BatchSize },
        "momentum-unbiased-no-correction" => new BatchNormalizingEstimator.Options { BatchSize = BatchSize, UnbiasedRunningVariance = true, BiasCorrection = false, InitialRunningVariance = 1 },
        "average" => new BatchNormalizingEstimator.Options { BatchSize = BatchSize, Momentum = null },
        "whole-data" => new BatchNormalizingEstimator.Options { BatchSize = BatchSize, WholeDataStatistics = true },
        "whole-data-unbiased" => new BatchNormalizingEstimator.Options { BatchSize = BatchSize, WholeDataStatistics = true, UnbiasedRunningVariance = true },
        "channels" => new BatchNormalizingEstimator.Options { BatchSize = BatchSize, ChannelLayout = ChannelLayout.ChannelsLast, ChannelCount = Slots },
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    });

    private static BatchNormalizingEstimator Estimator(MLContext ml, BatchNormalizingEstimator.Options options) =>
        ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Features")], options);

    /// <summary>A drifting dataset with a NaN here and there, split into A and B.</summary>
    internal static (IDataView A, IDataView B, IDataView All) Data(MLContext ml, int rowsA, int rowsB)
    {
        var rows = TestData.Random(3, rowsA + rowsB, Slots, mean: 1e3, std: 5);
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i][i % Slots] += i * 0.5f; // the mean drifts
        }

        rows[3][1] = float.NaN;
        rows[rowsA + 2][4] = float.NaN;
        return (TestData.Vectors(ml, rows.Take(rowsA), Slots), TestData.Vectors(ml, rows.Skip(rowsA), Slots), TestData.Vectors(ml, rows, Slots));
    }

    internal static void AssertSameFit(BatchNormalizingTransformer expected, BatchNormalizingTransformer actual)
    {
        var (e, a) = (expected.Columns[0], actual.Columns[0]);
        Assert.Equal(e.RunningMean, a.RunningMean);
        Assert.Equal(e.RunningVariance, a.RunningVariance);
        Assert.Equal(e.BatchCount, a.BatchCount);
        Assert.Equal(e.RowCount, a.RowCount);
    }
}
