using Microsoft.ML;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>Centering a wide sparse column warns through <c>mlContext.Log</c> that its output will be dense, naming the scale-only option.</summary>
public class SparseWarningTests
{
    [Theory]
    [InlineData(true, 20_000, true)]
    [InlineData(false, 20_000, false)]
    [InlineData(true, 5_000, false)]
    public void Fit_OfAWideSparseColumn_WarnsOnlyWhenCentering(bool center, int slots, bool warns)
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning)
            {
                lock (warnings)
                {
                    warnings.Add(e.Message);
                }
            }
        };
        var rows = Enumerable.Range(0, 32).Select(r => (new[] { r % 7, 100 + r, slots - 1 }, new[] { 1.0, r * 0.5, -2.0 })).ToArray();
        var data = SparseData.Floats(ml, rows, slots, sparse: true);

        ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { Center = center, BatchSize = 8 }).Fit(data);

        if (warns)
        {
            var warning = Assert.Single(warnings);
            Assert.Contains("'Features'", warning, StringComparison.Ordinal);
            Assert.Contains("dense", warning, StringComparison.Ordinal);
            Assert.Contains("Options.Center = false", warning, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(warnings);
        }
    }
}
