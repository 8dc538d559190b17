using Microsoft.ML;
using Ml.Normalization.Fitting;
using Xunit.Abstractions;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>
/// What a sparse fit allocates per slot, managed and native (its slot records), measured on a fit of a wide column
/// (issue 19, item 5; the figures are docs/sparse.md#memory's), and what its model keeps. A fit that touches few slots
/// keeps records for those only; one that touches many has a record for every slot.
/// </summary>
public class SparseFitBytesPerSlotTests(ITestOutputHelper output)
{
    [Theory]
    // Few slots touched (50,000 of 1,000,000): state 24 + the variance 8 (a scale-only model keeps no running mean, and
    // gamma and beta once) + the pool's index 4 + the pooled records (64 each, the pool's capacity 65,536: 4.2);
    // measured 40.2. Issue 19's 48: met.
    [InlineData(false, 1_000, 48)]
    // Whole data: state 32; measured 48.2, just over 48 (44 + 64 per record of the pool).
    [InlineData(true, 1_000, 48.5)]
    // Most slots touched: state 24 + variance 8 + a 64-byte record per slot, and the pool of the first eighth of the
    // slots with its index (12), freed when every slot gets its record; measured 108.0 (at once at most 24 + 12 + 64).
    // Issue 19's 48: not met (docs/sparse.md#memory says what it would take).
    [InlineData(false, 20_000, 108.5)]
    [InlineData(true, 20_000, 116.5)] // measured 116.0
    public void SparseFit_AllocatesAtMost_PerSlot(bool wholeData, int rows, double bytesPerSlot)
    {
        const int slots = 1_000_000;
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(SparseData.Floats(ml, Rows(rows, slots), slots, sparse: true));
        SparseData.Read<float>(data, "Features"); // fill the cache before measuring
        var estimator = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")],
            new BatchNormalizingEstimator.Options { Center = false, WholeDataStatistics = wholeData });
        estimator.Fit(data); // warm up the JIT for this path

        long managed = GC.GetAllocatedBytesForCurrentThread(), native = SlotBlock.AllocatedBytesForCurrentThread;
        var model = estimator.Fit(data);
        double perSlot = (GC.GetAllocatedBytesForCurrentThread() - managed + SlotBlock.AllocatedBytesForCurrentThread - native) / (double)slots;

        output.WriteLine($"{perSlot:F2} bytes per slot");
        Assert.NotNull(model);
        Assert.True(perSlot <= bytesPerSlot, $"{perSlot:F1} bytes per slot, expected at most {bytesPerSlot}");
    }

    [Theory]
    [InlineData(false, 32)] // the fit state's count, mean and second moment, and the running variance
    [InlineData(true, 40)] // and whole data's origin
    public void ScaleOnlyModel_KeepsAtMost48BytesPerSlot(bool wholeData, int bytesPerSlot)
    {
        // What the fitted parameters hold per slot (the arrays they reference): issue 19's 48 for the model.
        const int slots = 100_000;
        var ml = new MLContext(seed: 1);
        var data = SparseData.Floats(ml, Rows(200, slots), slots, sparse: true);
        var p = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")],
            new BatchNormalizingEstimator.Options { Center = false, WholeDataStatistics = wholeData }).Fit(data).Columns[0];

        var state = p.FitState!;
        Assert.True(state.InitialMean.IsUniform && state.InitialVariance.IsUniform && p.GammaValues.IsUniform && p.BetaValues.IsUniform);
        Assert.False(p.HoldsRunningMean);
        long held = (3 + (state.Origin is null ? 0 : 1) + 1) * sizeof(double) * (long)slots;
        Assert.Equal(bytesPerSlot, held / slots);
        Assert.True(held / slots <= 48);
    }

    // 50 non-zeros per row at random slots.
    private static (int[] Indices, double[] Values)[] Rows(int rows, int slots)
    {
        var random = new Random(5);
        return [.. Enumerable.Range(0, rows).Select(_ =>
        {
            var indices = Enumerable.Range(0, 50).Select(_ => random.Next(slots)).Distinct().Order().ToArray();
            return (indices, indices.Select(_ => random.NextDouble()).ToArray());
        })];
    }
}
