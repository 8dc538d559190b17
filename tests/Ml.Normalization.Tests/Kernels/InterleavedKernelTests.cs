using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// NormalizeInterleaved and StandardizeInterleaved (channels last: element i takes channel i % channels' parameters)
/// against the scalar reference bit for bit: lengths around every vector tail, including a partial last period and a
/// 224 x 224 RGB row, every placement of the destination (the walk aligns its stores), in place or not, channel counts
/// 1 to 8, 24 (the period the transform passes for RGB floats) and 130 (a cycle too long for the stack: walked a period
/// at a time).
/// </summary>
public class InterleavedKernelTests
{
    private const int MaxShift = 16; // elements: every offset from a 64-byte boundary
    private const int ImageRow = 3 * 224 * 224;
    private static readonly int[] Lengths = [0, 1, 2, 3, 7, 8, 9, 23, 24, 25, 63, 64, 65, 130, 131, 1000, ImageRow];

    public static TheoryData<string, int> TypesAndChannels
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (string type in new[] { nameof(Single), nameof(Double) })
            {
                foreach (int channels in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 24, 130 })
                {
                    data.Add(type, channels);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndChannels))]
    public void NormalizeInterleaved_AnyLengthAndOffset_MatchesTheScalarReference(string type, int channels)
    {
        if (type == nameof(Single))
        {
            NormalizeAnyLengthAndOffset<float>(channels);
        }
        else
        {
            NormalizeAnyLengthAndOffset<double>(channels);
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndChannels))]
    public void StandardizeInterleaved_AnyLengthAndOffset_MatchesTheScalarReference(string type, int channels)
    {
        if (type == nameof(Single))
        {
            StandardizeAnyLengthAndOffset<float>(channels);
        }
        else
        {
            StandardizeAnyLengthAndOffset<double>(channels);
        }
    }

    [Fact]
    public void NormalizeInterleaved_NoChannels_Throws() =>
        Assert.Throws<ArgumentException>(() => NormalizationKernels.NormalizeInterleaved<float>(new float[3], [], [], [], new float[3]));

    [Fact]
    public void StandardizeInterleaved_StdOfAnotherLength_Throws() =>
        Assert.Throws<ArgumentException>(() => NormalizationKernels.StandardizeInterleaved<float>(new float[3], new float[3], new float[2], new float[3]));

    private static void NormalizeAnyLengthAndOffset<T>(int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mean = As<T>(SeededData.Normal(2, channels));
        var scale = As<T>(SeededData.Normal(3, channels, 1, 0.1));
        var offset = As<T>(SeededData.Normal(4, channels));
        foreach (int length in Lengths)
        {
            var x = As<T>(SeededData.Normal(1, length, 2, 3));
            var expected = ScalarReference.Normalize(x, mean, scale, offset);
            ForEachPlacement(x, expected, $"{channels} channels, length {length}", (source, destination) =>
                NormalizationKernels.NormalizeInterleaved<T>(source, mean, scale, offset, destination));
        }
    }

    private static void StandardizeAnyLengthAndOffset<T>(int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mean = As<T>(SeededData.Normal(2, channels));
        var std = As<T>(Array.ConvertAll(SeededData.Normal(3, channels, 1, 0.3), MathF.Abs));
        foreach (int length in Lengths)
        {
            var x = As<T>(SeededData.Normal(1, length, 2, 3));
            var expected = ScalarReference.Standardize(x, mean, std);
            ForEachPlacement(x, expected, $"{channels} channels, length {length}", (source, destination) =>
                NormalizationKernels.StandardizeInterleaved<T>(source, mean, std, destination));
        }
    }

    private delegate void Map<T>(ReadOnlySpan<T> source, Span<T> destination);

    // The destination at every shift (the image row at the shifts within one 32-byte vector, to keep the test short),
    // into a separate buffer and in place; nothing written outside it.
    private static void ForEachPlacement<T>(T[] x, T[] expected, string what, Map<T> map)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int shifts = x.Length >= ImageRow ? 32 / System.Runtime.CompilerServices.Unsafe.SizeOf<T>() : MaxShift;
        for (int shift = 0; shift < shifts; shift++)
        {
            foreach (bool inPlace in new[] { false, true })
            {
                var buffer = new T[x.Length + MaxShift];
                var destination = buffer.AsSpan(shift, x.Length);
                if (inPlace)
                {
                    x.CopyTo(destination);
                    map(destination, destination);
                }
                else
                {
                    map(x, destination);
                }

                for (int k = 0; k < x.Length; k++)
                {
                    if (!expected[k].Equals(destination[k]))
                    {
                        Assert.Fail($"{what}, shift {shift}, in place {inPlace}: [{k}] = {destination[k]}, expected {expected[k]}");
                    }
                }

                Assert.All(buffer[..shift], v => Assert.Equal(T.Zero, v));
                Assert.All(buffer[(shift + x.Length)..], v => Assert.Equal(T.Zero, v));
            }
        }
    }

    private static T[] As<T>(float[] values)
        where T : IFloatingPointIeee754<T> =>
        Array.ConvertAll(values, T.CreateTruncating);
}
