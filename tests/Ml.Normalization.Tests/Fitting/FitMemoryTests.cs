using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// A fit whose per-slot statistics the process cannot hold is refused before they are allocated, with a message that
/// names the column, its slots and the bytes needed (issue 19, item 5). Before, a 2^26-slot hashed column needed about
/// 8.7 GiB and failed late with no message of ours.
/// </summary>
public class FitMemoryTests
{
    [Fact]
    public void Fit_OfAColumnWiderThanTheProcessCanHold_IsRefusedBeforeAllocating()
    {
        // int.MaxValue slots need 2^31 * 44 bytes = 88 GiB: more than any machine the suite runs on.
        const int slots = int.MaxValue;
        var ml = new MLContext(seed: 1);
        var data = SparseView(ml, slots);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InsufficientMemoryException>(() => ml.Transforms.BatchNormalize("Hashed", options: new BatchNormalizingEstimator.Options { Center = false }).Fit(data));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("'Hashed'", error.Message);
        Assert.Contains("2,147,483,647 slots", error.Message);
        Assert.Contains("88.0 GiB (44 bytes per slot)", error.Message);
        Assert.True(allocated < 64 << 20, $"allocated {allocated:N0} bytes before refusing");
    }

    [Theory]
    [InlineData(false, false, 44)] // the state's 32-byte record + the variance 8 + the sparse moments' tag 4
    [InlineData(true, false, 44)] // whole data: its origin is in the same record
    [InlineData(false, true, 52)] // centering: the running mean 8 more
    public void Fit_CountsTheStateRecord_TheParameters_AndTheSparseTag(bool wholeData, bool center, int bytesPerSlot)
    {
        var ml = new MLContext(seed: 1);
        var options = new BatchNormalizingEstimator.Options { Center = center, WholeDataStatistics = wholeData };
        FitMemory.AvailableBytesInThisFlow.Value = () => 1_000_000L * (bytesPerSlot - 1);
        try
        {
            var error = Assert.Throws<InsufficientMemoryException>(() => ml.Transforms.BatchNormalize("Hashed", options: options).Fit(SparseView(ml, 1_000_000)));
            Assert.Contains($"({bytesPerSlot} bytes per slot)", error.Message);

            FitMemory.AvailableBytesInThisFlow.Value = () => 1_000_000L * bytesPerSlot;
            Assert.NotNull(ml.Transforms.BatchNormalize("Hashed", options: options).Fit(SparseView(ml, 1_000_000)));
        }
        finally
        {
            FitMemory.AvailableBytesInThisFlow.Value = null;
        }
    }

    [Fact]
    public void Fit_WhoseFirstRowIsDense_ChecksTheDenseMomentsBeforeAllocatingThem()
    {
        // The sparse moments' least fits; the dense ones, chosen at the first row, do not.
        var ml = new MLContext(seed: 1);
        const int slots = 100_000;
        // The first check (before the state) sees enough; by the first row, the state has taken most of it.
        int checks = 0;
        FitMemory.AvailableBytesInThisFlow.Value = () => ++checks == 1 ? slots * 200L : slots * 64L;
        try
        {
            var data = ml.Data.LoadFromEnumerable([new Row { Hashed = new VBuffer<float>(slots, new float[slots]) }, new Row { Hashed = new VBuffer<float>(slots, new float[slots]) }], Schema(slots));
            var error = Assert.Throws<InsufficientMemoryException>(() => ml.Transforms.BatchNormalize("Hashed").Fit(data));
            Assert.Contains("'Hashed'", error.Message);
            Assert.Contains("100,000 slots", error.Message);
            Assert.Contains("dense moments", error.Message);
            Assert.Equal(2, checks);
        }
        finally
        {
            FitMemory.AvailableBytesInThisFlow.Value = null;
        }
    }

    private static IDataView SparseView(MLContext ml, int slots) =>
        ml.Data.LoadFromEnumerable(
            [new Row { Hashed = new VBuffer<float>(slots, 1, [1f], [slots - 1]) }, new Row { Hashed = new VBuffer<float>(slots, 1, [2f], [3]) }],
            Schema(slots));

    private static SchemaDefinition Schema(int slots)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, slots);
        return schema;
    }

    private sealed class Row
    {
        public VBuffer<float> Hashed { get; set; }
    }
}
