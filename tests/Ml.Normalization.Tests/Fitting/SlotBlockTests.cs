using Ml.Normalization.Fitting;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>The sparse fit's slot records: one cache line each, in native memory freed once.</summary>
public class SlotBlockTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    public void Records_AreCacheLineAligned_AndOneLineEach(int count)
    {
        using var block = new SlotBlock(count);
        Assert.Equal(0, block.Address % SparseSlotState.Bytes);
        Assert.Equal(SparseSlotState.Bytes, System.Runtime.CompilerServices.Unsafe.SizeOf<SparseSlotState>());
    }

    [Fact]
    public void Dispose_Twice_IsHarmless_AndTheRecordsAreGone()
    {
        var block = new SlotBlock(4);
        block.Dispose();
        block.Dispose();
        Assert.Throws<ObjectDisposedException>(() => block.Address);
    }

    [Fact]
    public void NegativeCount_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlotBlock(-1));
    }
}
