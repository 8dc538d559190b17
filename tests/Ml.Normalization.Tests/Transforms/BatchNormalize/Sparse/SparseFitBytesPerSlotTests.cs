using Microsoft.ML;
using Ml.Normalization.Fitting;
using Xunit.Abstractions;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>
/// What a sparse fit allocates per slot, managed and native (its slot records), measured on a fit of a wide column
/// (issue 19, item 5; the figures are docs/sparse.md#memory's). A fit that touches few slots keeps records for those
/// only; one that touches many has a record for every slot.
/// </summary>
public class SparseFitBytesPerSlotTests(ITestOutputHelper output)
{
    [Theory]
    // Few slots touched (50,000 of 1,000,000): state 24 + parameters 32 + the pool's index 4 + the pooled records and
    // their slots (4.7); measured 64.7. Issue 19 asked for 48: not met (docs/sparse.md#memory says what remains).
    [InlineData(false, 1_000, 66)]
    [InlineData(true, 1_000, 74)] // whole data: state 32; measured 72.7
    // Most slots touched: state 24 + parameters 32 + a 64-byte record per slot, and the pool of the first eighth of the
    // slots (13), freed when every slot gets its record; measured 133.0 (at once at most 120 + 13).
    [InlineData(false, 20_000, 134)]
    [InlineData(true, 20_000, 142)] // measured 141.0
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
