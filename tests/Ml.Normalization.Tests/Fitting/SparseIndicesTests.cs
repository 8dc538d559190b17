using Ml.Normalization.Fitting;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// The one check of a sparse row's indices (strictly ascending, within the slots) and its message, which names the
/// column and the first wrong index. Every path's use of it: <c>Transforms/MalformedSparseVectorTests</c>.
/// </summary>
public class SparseIndicesTests
{
    [Theory]
    [InlineData(4, new int[0])]
    [InlineData(4, new[] { 0 })]
    [InlineData(4, new[] { 3 })]
    [InlineData(4, new[] { 0, 1, 2, 3 })]
    [InlineData(int.MaxValue, new[] { 0, int.MaxValue - 1 })]
    [InlineData(0, new int[0])]
    public void WellFormedIndices_Pass(int length, int[] indices) => SparseIndices.Check(indices, length, "x");

    [Theory]
    [InlineData(4, new[] { 4 }, "index 4 outside its 4 slots")]
    [InlineData(4, new[] { 0, 1, int.MaxValue }, "index 2147483647 outside its 4 slots")]
    [InlineData(4, new[] { int.MinValue }, "index -2147483648 outside its 4 slots")]
    [InlineData(4, new[] { 2, -1 }, "index -1 outside its 4 slots")]
    [InlineData(4, new[] { 0, 0 }, "index 0 twice")]
    [InlineData(4, new[] { 1, 3, 2, 2 }, "index 2 after index 3")]
    [InlineData(4, new[] { 1, 2, 0, 9 }, "index 0 after index 2")] // the first wrong index is named, not the worst
    public void MalformedIndices_AreRefused_NamingTheFirstWrongIndex(int length, int[] indices, string problem)
    {
        var error = Assert.Throws<InvalidOperationException>(() => SparseIndices.Check(indices, length, "Features"));
        Assert.Equal($"Column 'Features' gave a malformed sparse vector: expected strictly ascending indices from 0 to {length - 1}, got {problem}.", error.Message);
    }

    [Fact]
    public void AnIndexInAVectorWithoutSlots_IsRefused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => SparseIndices.Check([0], 0, "Empty"));
        Assert.Equal("Column 'Empty' gave a malformed sparse vector: expected no indices (it has no slots), got index 0 outside its 0 slots.", error.Message);
    }

    [Fact]
    public void TheDensifyingPath_RefusesTheRowBeforeAddingAnything()
    {
        var moments = new MiniBatchMoments<float>("x", 3);
        Assert.Throws<InvalidOperationException>(() => moments.Add([5f, 7f], [2, 1]));
        moments.Add([1f], [0]);
        moments.Add([3f], [0]);

        var (mean, variance, count) = (new double[3], new double[3], new double[3]);
        moments.EndBatch(mean, variance, count);
        Assert.Equal([2.0, 0.0, 0.0], mean);
        Assert.Equal([2.0, 2.0, 2.0], count);
    }
}
