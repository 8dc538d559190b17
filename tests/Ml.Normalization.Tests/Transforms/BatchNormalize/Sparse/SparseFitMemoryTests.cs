using Microsoft.ML;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>The sparse fit's memory is O(slots), independent of the row count (the lazy folds keep no per-batch state).</summary>
public class SparseFitMemoryTests
{
    [Fact]
    public void SparseFit_Allocations_DoNotGrowWithTheRowCount()
    {
        const int slots = 50_000;
        var ml = new MLContext(seed: 1);
        IDataView Make(int seed, int rows)
        {
            var random = new Random(seed);
            var data = Enumerable.Range(0, rows).Select(_ =>
            {
                var indices = Enumerable.Range(0, 5).Select(_ => random.Next(slots)).Distinct().Order().ToArray();
                return (indices, indices.Select(_ => random.NextDouble()).ToArray());
            }).ToArray();
            var view = ml.Data.Cache(SparseData.Floats(ml, data, slots, sparse: true));
            SparseData.Read<float>(view, "Features"); // fill the cache before measuring
            return view;
        }

        var small = Make(1, 2_000);
        var large = Make(2, 20_000);

        long Allocated(IDataView data)
        {
            var estimator = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { Center = false, BatchSize = 64 });
            estimator.Fit(data); // warm up the JIT for this path
            long before = GC.GetAllocatedBytesForCurrentThread();
            estimator.Fit(data);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        long smallBytes = Allocated(small), largeBytes = Allocated(large);
        Assert.True(largeBytes < smallBytes * 1.1, $"2k rows: {smallBytes} B, 20k rows: {largeBytes} B");
    }
}
