using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// NormalizeInOrder (the affine map of a rows x F block walked in address order, for the layers' large calls) against
/// Normalize's row walk bit for bit: feature counts around every vector tail (and 250, whose parameters would not
/// repeat on the stack: the row walk itself), row counts from 1, every placement of the destination (the walk aligns
/// its stores to it), in place or not, nothing written outside the destination.
/// </summary>
public class InOrderWalkTests
{
    private const int MaxShift = 16; // elements: every offset from a 64-byte boundary
    private static readonly int[] RowCounts = [1, 2, 3, 5, 33];

    public static TheoryData<string, int> TypesAndFeatures
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (string type in new[] { nameof(Single), nameof(Double) })
            {
                foreach (int features in SeededData.SimdLengths.Where(n => n > 0).Append(250))
                {
                    data.Add(type, features);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndFeatures))]
    public void NormalizeInOrder_AnyShapeAndOffset_EqualsTheRowWalk_BitForBit(string type, int features)
    {
        if (type == nameof(Single))
        {
            EqualsTheRowWalk<float>(features);
        }
        else
        {
            EqualsTheRowWalk<double>(features);
        }
    }

    [Fact]
    public void NormalizeInOrder_ParameterOfAnotherLength_Throws() =>
        Assert.Throws<ArgumentException>(() => NormalizationKernels.NormalizeInOrder<float>(new float[6], 2, new float[3], new float[2], new float[3], new float[6]));

    private static void EqualsTheRowWalk<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mean = As<T>(SeededData.Normal(2, features));
        var scale = As<T>(SeededData.Normal(3, features, 1, 0.1));
        var offset = As<T>(SeededData.Normal(4, features));
        foreach (int rows in RowCounts)
        {
            var x = As<T>(SeededData.Normal(1, rows * features, 2, 3));
            var expected = new T[x.Length];
            NormalizationKernels.Normalize<T>(x, rows, mean, scale, offset, expected);
            for (int shift = 0; shift < MaxShift; shift++)
            {
                foreach (bool inPlace in new[] { false, true })
                {
                    var buffer = new T[x.Length + MaxShift];
                    var destination = buffer.AsSpan(shift, x.Length);
                    if (inPlace)
                    {
                        x.CopyTo(destination);
                        NormalizationKernels.NormalizeInOrder<T>(destination, rows, mean, scale, offset, destination);
                    }
                    else
                    {
                        NormalizationKernels.NormalizeInOrder<T>(x, rows, mean, scale, offset, destination);
                    }

                    for (int k = 0; k < x.Length; k++)
                    {
                        if (!expected[k].Equals(destination[k]))
                        {
                            Assert.Fail($"{rows} x {features}, shift {shift}, in place {inPlace}: [{k}] = {destination[k]}, expected {expected[k]}");
                        }
                    }

                    Assert.All(buffer[..shift], v => Assert.Equal(T.Zero, v));
                    Assert.All(buffer[(shift + x.Length)..], v => Assert.Equal(T.Zero, v));
                }
            }
        }
    }

    private static T[] As<T>(float[] values)
        where T : IFloatingPointIeee754<T> =>
        Array.ConvertAll(values, T.CreateTruncating);
}
