using System.Runtime.CompilerServices;
using Ml.Normalization.Fitting;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// A fit state's records start on a 32-byte boundary, so none spans two cache lines (the sparse fit reaches its touched
/// slots' records at random, one cache miss each): a fresh state, one from per-unit values, a copy and a state read
/// from a model. Asserted for states in the large object heap, which the GC does not move (a small state's array may
/// move, and then keeps its values but not necessarily its alignment); every size keeps its values.
/// </summary>
public class FitStateRecordsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    [InlineData(4096)]
    [InlineData(100_000)]
    public void EveryState_KeepsItsRecordsOn32ByteBoundaries(int units)
    {
        var rule = new WholeDataRule(unbiasedVariance: false);
        var fresh = FitState.Fresh(rule, units, 0.5, 2);
        var starting = FitState.StartingFrom(rule, new double[units], Enumerable.Repeat(1.0, units).ToArray());
        var copy = fresh.Copy();
        using var stream = new MemoryStream();
        starting.Write(new BinaryWriter(stream));
        stream.Position = 0;
        var read = FitState.Read(new ModelBodyReader(new BinaryReader(stream), "BatchNormalize", stream.Length), units);

        foreach (var state in new[] { fresh, starting, copy, read })
        {
            Assert.Equal(units, state.Moments.Length);
            Assert.True(units < 4096 || IsAligned(state), "records off a 32-byte boundary");
        }

        // Whole data starts every record at 0, the copy from the fresh state, the read one from the written.
        Assert.All(copy.Moments.ToArray(), m => Assert.Equal(default, m));
        Assert.All(read.Moments.ToArray(), m => Assert.Equal(default, m));
    }

    // The first record's address (its offset from null).
    private static bool IsAligned(FitState state) => (Unsafe.ByteOffset(ref Unsafe.NullRef<UnitMoments>(), ref state.Moments[0]) & 31) == 0;
}
