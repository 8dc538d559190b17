using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary><see cref="NormalizationKernels.CopyIfFinite{T}"/>: the row copied, and false for a NaN or infinity at any position (vector body and tail).</summary>
public class CopyIfFiniteTests
{
    [Theory]
    [MemberData(nameof(SeededData.Lengths), 0, MemberType = typeof(SeededData))]
    public void CopyIfFinite_Single_CopiesAndFindsEveryNonFinitePosition(int length) => CopiesAndFinds<float>(length);

    [Theory]
    [MemberData(nameof(SeededData.Lengths), 0, MemberType = typeof(SeededData))]
    public void CopyIfFinite_Double_CopiesAndFindsEveryNonFinitePosition(int length) => CopiesAndFinds<double>(length);

    private static void CopiesAndFinds<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(length);
        var values = Enumerable.Range(0, length).Select(_ => T.CreateTruncating((random.NextDouble() - 0.5) * 1e30)).ToArray();
        var destination = new T[length];
        Assert.True(NormalizationKernels.CopyIfFinite<T>(values, destination));
        Assert.Equal(values, destination);
        foreach (var bad in new[] { T.NaN, T.PositiveInfinity, T.NegativeInfinity })
        {
            for (int at = 0; at < length; at++)
            {
                var row = (T[])values.Clone();
                row[at] = bad;
                Array.Clear(destination);
                Assert.False(NormalizationKernels.CopyIfFinite<T>(row, destination));
                Assert.Equal(row, destination);
            }
        }
    }
}
