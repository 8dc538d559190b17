using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// NormalizeInOrder, NormalizeTrainingInOrder (x-hat written with ordinary or non-temporal stores) and the dx pass's
/// GradientRowsInOrder (a rows x F block walked in address order, for the layers' large calls) against the row walks
/// (Normalize, NormalizeTraining with x-hat kept or not, GradientRows from x-hat or from x) bit for bit: feature counts
/// around every vector tail (and 250, whose parameters would not repeat on the stack: the row walk itself), row counts
/// from 1, every placement of the destination (the walk aligns its stores to it), in place or not, nothing written
/// outside the destination.
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

    [Theory]
    [MemberData(nameof(TypesAndFeatures))]
    public void NormalizeTrainingInOrder_AnyShapeAndOffset_XHatKeptStreamedOrNot_EqualsTheRowWalk_BitForBit(string type, int features)
    {
        if (type == nameof(Single))
        {
            TrainingEqualsTheRowWalk<float>(features);
        }
        else
        {
            TrainingEqualsTheRowWalk<double>(features);
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndFeatures))]
    public void GradientRowsInOrder_AnyShapeAndOffset_KeptXHatOrX_EqualsTheRowWalk_BitForBit(string type, int features)
    {
        if (type == nameof(Single))
        {
            GradientEqualsTheRowWalk<float>(features);
        }
        else
        {
            GradientEqualsTheRowWalk<double>(features);
        }
    }

    [Fact]
    public void NormalizeTrainingStreamingXHat_XHatOfAnotherLength_Throws() =>
        Assert.Throws<ArgumentException>(() => NormalizationKernels.NormalizeTrainingStreamingXHat<float>(new float[6], 2, new float[3], new float[3], new float[3], new float[3], new float[5], new float[6]));

    [Fact]
    public void NormalizeTrainingInOrder_XHatOfAnotherLength_Throws() =>
        Assert.Throws<ArgumentException>(() => NormalizationKernels.NormalizeTrainingInOrder<float>(new float[6], 2, new float[3], new float[3], new float[3], new float[3], new float[5], new float[6]));

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

    // x-hat at the same shift as y (the layer places its cache at y's alignment), and in place (y = x) with a separate
    // x-hat; the pass without x-hat likewise.
    private static void TrainingEqualsTheRowWalk<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mean = As<T>(SeededData.Normal(2, features));
        var inverseStd = As<T>(SeededData.Normal(3, features, 1, 0.1));
        var gamma = As<T>(SeededData.Normal(5, features, 1, 0.2));
        var beta = As<T>(SeededData.Normal(4, features));
        foreach (int rows in RowCounts)
        {
            var x = As<T>(SeededData.Normal(1, rows * features, 2, 3));
            var expectedY = new T[x.Length];
            var expectedXHat = new T[x.Length];
            NormalizationKernels.NormalizeTraining<T>(x, rows, mean, inverseStd, gamma, beta, expectedXHat, expectedY);
            var expectedYAlone = new T[x.Length];
            NormalizationKernels.NormalizeTraining<T>(x, rows, mean, inverseStd, gamma, beta, expectedYAlone);
            for (int shift = 0; shift < MaxShift; shift++)
            {
                foreach (bool inPlace in new[] { false, true })
                {
                    foreach (var mode in new[] { XHatMode.Kept, XHatMode.Streamed, XHatMode.StreamedElsewhere, XHatMode.None })
                    {
                        bool keep = mode != XHatMode.None;

                        // Pinned, as the layer's cache is, for the non-temporal stores; StreamedElsewhere puts x-hat one
                        // element further than y, so none of its stores is aligned (all take the ordinary path).
                        var buffer = GC.AllocateArray<T>(x.Length + MaxShift + 1, pinned: true);
                        var xHatBuffer = GC.AllocateArray<T>(x.Length + MaxShift + 1, pinned: true);
                        var destination = buffer.AsSpan(shift, x.Length);
                        var xHat = xHatBuffer.AsSpan(mode == XHatMode.StreamedElsewhere ? shift + 1 : shift, x.Length);
                        ReadOnlySpan<T> source = x;
                        if (inPlace)
                        {
                            x.CopyTo(destination);
                            source = destination;
                        }

                        if (keep)
                        {
                            if (mode == XHatMode.Kept)
                            {
                                NormalizationKernels.NormalizeTrainingInOrder<T>(source, rows, mean, inverseStd, gamma, beta, xHat, destination);
                            }
                            else
                            {
                                NormalizationKernels.NormalizeTrainingStreamingXHat<T>(source, rows, mean, inverseStd, gamma, beta, xHat, destination);
                            }

                            AssertEqual(expectedXHat, xHat, $"x-hat {mode}, {rows} x {features}, shift {shift}, in place {inPlace}");
                        }
                        else
                        {
                            NormalizationKernels.NormalizeTrainingInOrder<T>(source, rows, mean, inverseStd, gamma, beta, destination);
                            Assert.All(xHatBuffer, v => Assert.Equal(T.Zero, v));
                        }

                        int xHatStart = mode == XHatMode.StreamedElsewhere ? shift + 1 : shift;
                        AssertEqual(keep ? expectedY : expectedYAlone, destination, $"y, {rows} x {features}, shift {shift}, in place {inPlace}, x-hat {mode}");
                        Assert.All(buffer[..shift], v => Assert.Equal(T.Zero, v));
                        Assert.All(buffer[(shift + x.Length)..], v => Assert.Equal(T.Zero, v));
                        Assert.All(xHatBuffer[..xHatStart], v => Assert.Equal(T.Zero, v));
                        Assert.All(xHatBuffer[(xHatStart + x.Length)..], v => Assert.Equal(T.Zero, v));
                    }
                }
            }
        }
    }

    // The dx pass from a kept x-hat and from x (x-hat recomputed), at every placement of dx, and in place (dx = dy).
    private static void GradientEqualsTheRowWalk<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mean = As<T>(SeededData.Normal(2, features));
        var inverseStd = As<T>(SeededData.Normal(3, features, 1, 0.1));
        var a = As<T>(SeededData.Normal(5, features, 1, 0.2));
        var b = As<T>(SeededData.Normal(4, features, 0, 0.01));
        var c = As<T>(SeededData.Normal(6, features, 0, 0.01));
        foreach (int rows in RowCounts)
        {
            var source = As<T>(SeededData.Normal(1, rows * features, 2, 3));
            var dy = As<T>(SeededData.Normal(7, rows * features, 0, 0.5));
            foreach (bool fromInput in new[] { false, true })
            {
                var expected = new T[dy.Length];
                if (fromInput)
                {
                    NormalizationKernels.GradientRowsFromInput<T>(dy, source, rows, mean, inverseStd, a, b, c, expected);
                }
                else
                {
                    NormalizationKernels.GradientRows<T>(dy, source, rows, a, b, c, expected);
                }

                for (int shift = 0; shift < MaxShift; shift++)
                {
                    foreach (bool inPlace in new[] { false, true })
                    {
                        var buffer = new T[dy.Length + MaxShift];
                        var dx = buffer.AsSpan(shift, dy.Length);
                        ReadOnlySpan<T> gradient = dy;
                        if (inPlace)
                        {
                            dy.CopyTo(dx);
                            gradient = dx;
                        }

                        if (fromInput)
                        {
                            NormalizationKernels.GradientRowsFromInputInOrder<T>(gradient, source, rows, mean, inverseStd, a, b, c, dx);
                        }
                        else
                        {
                            NormalizationKernels.GradientRowsInOrder<T>(gradient, source, rows, a, b, c, dx);
                        }

                        AssertEqual(expected, dx, $"dx, {rows} x {features}, from x {fromInput}, shift {shift}, in place {inPlace}");
                        Assert.All(buffer[..shift], v => Assert.Equal(T.Zero, v));
                        Assert.All(buffer[(shift + dy.Length)..], v => Assert.Equal(T.Zero, v));
                    }
                }
            }
        }
    }

    // How the training pass is asked to keep x-hat: the in-order walk's ordinary stores, its non-temporal ones (x-hat
    // at y's alignment, as the layer places it, or one element off), or not at all.
    private enum XHatMode
    {
        Kept,
        Streamed,
        StreamedElsewhere,
        None,
    }

    private static void AssertEqual<T>(T[] expected, Span<T> actual, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int k = 0; k < expected.Length; k++)
        {
            if (!expected[k].Equals(actual[k]))
            {
                Assert.Fail($"{what}: [{k}] = {actual[k]}, expected {expected[k]}");
            }
        }
    }

    private static T[] As<T>(float[] values)
        where T : IFloatingPointIeee754<T> =>
        Array.ConvertAll(values, T.CreateTruncating);
}
