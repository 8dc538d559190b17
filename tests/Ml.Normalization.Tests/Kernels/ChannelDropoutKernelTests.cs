using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// The channel dropout kernels against <see cref="ScalarReference"/>, bit for bit, for float and double: planes
/// (channels first, one draw per plane) and interleaved channels (channels last, one draw per channel), over plane
/// sizes and channel counts that cover every vector width, its tail, and the interleaved kernel's pooled gains; with a
/// NaN in the data (a dropped NaN becomes 0, a kept one stays NaN).
/// </summary>
public class ChannelDropoutKernelTests
{
    private const ulong Key = 0x1234_5678_9ABC_DEF0;
    private static readonly uint Threshold = DropoutMask.KeepThreshold(0.35);

    public static TheoryData<string, int, int, uint> PlaneCases()
    {
        var data = new TheoryData<string, int, int, uint>();
        foreach (string type in new[] { nameof(Single), nameof(Double) })
        {
            foreach (int planeSize in new[] { 1, 7, 8, 9, 63, 64, 65 })
            {
                foreach (int planes in new[] { 0, 1, 9 })
                {
                    data.Add(type, planeSize, planes, 0);
                }

                data.Add(type, planeSize, 9, 5);                  // from a later plane
                data.Add(type, planeSize, 9, uint.MaxValue - 3);   // plane indices wrap past 2^32 - 1 within the call
            }
        }

        return data;
    }

    public static TheoryData<string, int, int> InterleavedCases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (string type in new[] { nameof(Single), nameof(Double) })
        {
            // 3: RGB, narrower than a vector; 300: more gains than the stack holds.
            foreach (int channels in new[] { 1, 3, 7, 8, 9, 63, 64, 65, 300 })
            {
                foreach (int positions in new[] { 0, 1, 7, 8, 9 })
                {
                    data.Add(type, channels, positions);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PlaneCases))]
    public void DropoutPlanes_MatchesOneDrawPerPlane_InPlaceOrNot(string type, int planeSize, int planes, uint firstPlane)
    {
        if (type == nameof(Single))
        {
            PlanesMatchReference(planeSize, planes, firstPlane, 1f / 0.65f);
        }
        else
        {
            PlanesMatchReference(planeSize, planes, firstPlane, 1.0 / 0.65);
        }
    }

    [Theory]
    [MemberData(nameof(InterleavedCases))]
    public void DropoutInterleaved_MatchesOneDrawPerChannel_InPlaceOrNot(string type, int channels, int positions)
    {
        if (type == nameof(Single))
        {
            InterleavedMatchesReference(channels, positions, 1f / 0.65f);
        }
        else
        {
            InterleavedMatchesReference(channels, positions, 1.0 / 0.65);
        }
    }

    [Theory]
    [InlineData(3, 17)]
    [InlineData(16, 5)]
    [InlineData(65, 9)]
    public void BothLayouts_DrawTheSameChannelMask_ForTheSameKey(int channels, int positions)
    {
        // A row [C, S] and its transpose [S, C] lose the same channels: the mask is the channel's, not the layout's.
        var first = SeededData.Normal(3, channels * positions);
        var last = new float[first.Length];
        for (int c = 0; c < channels; c++)
        {
            for (int s = 0; s < positions; s++)
            {
                last[(s * channels) + c] = first[(c * positions) + s];
            }
        }

        var planesOut = new float[first.Length];
        var interleavedOut = new float[first.Length];
        NormalizationKernels.DropoutPlanes<float>(first, planesOut, positions, Key, Threshold, 2f);
        NormalizationKernels.DropoutInterleaved<float>(last, interleavedOut, channels, Key, Threshold, 2f);

        int dropped = 0;
        for (int c = 0; c < channels; c++)
        {
            for (int s = 0; s < positions; s++)
            {
                Assert.Equal(planesOut[(c * positions) + s], interleavedOut[(s * channels) + c]);
            }

            dropped += planesOut[c * positions] == 0f ? 1 : 0;
        }

        Assert.InRange(dropped, 1, channels - 1); // the comparison saw both kept and dropped channels
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(65)]
    public void OnePosition_IsTheElementWiseDropout_WithTheSameKey(int length)
    {
        var x = SeededData.Normal(4, length);
        var expected = new float[length];
        NormalizationKernels.Dropout(x, expected, Key, Threshold, 2f);

        var planes = new float[length];
        NormalizationKernels.DropoutPlanes<float>(x, planes, 1, Key, Threshold, 2f);
        var interleaved = new float[length];
        NormalizationKernels.DropoutInterleaved<float>(x, interleaved, length, Key, Threshold, 2f);

        Assert.Equal(expected, planes);
        Assert.Equal(expected, interleaved);
    }

    [Fact]
    public void BadShapes_AreRefused_NamingTheArgument()
    {
        var x = new float[12];
        Assert.Equal("planeSize", Assert.Throws<ArgumentOutOfRangeException>(() => NormalizationKernels.DropoutPlanes<float>(x, x, 0, Key, Threshold, 1f)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => NormalizationKernels.DropoutPlanes<float>(x, x, 5, Key, Threshold, 1f)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => NormalizationKernels.DropoutPlanes<float>(x, new float[11], 4, Key, Threshold, 1f)).ParamName);
        Assert.Equal("channels", Assert.Throws<ArgumentOutOfRangeException>(() => NormalizationKernels.DropoutInterleaved<float>(x, x, 0, Key, Threshold, 1f)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => NormalizationKernels.DropoutInterleaved<float>(x, x, 5, Key, Threshold, 1f)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => NormalizationKernels.DropoutInterleaved<float>(x, new float[13], 3, Key, Threshold, 1f)).ParamName);
    }

    private static void PlanesMatchReference<T>(int planeSize, int planes, uint firstPlane, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = WithNaN(Data<T>(8, planeSize * planes));
        var expected = ScalarReference.DropoutPlanes(x, planeSize, Key, Threshold, scale, firstPlane);
        var y = new T[x.Length];
        NormalizationKernels.DropoutPlanes<T>(x, y, planeSize, Key, Threshold, scale, firstPlane);
        Assert.Equal(expected, y);

        NormalizationKernels.DropoutPlanes<T>(x, x, planeSize, Key, Threshold, scale, firstPlane);
        Assert.Equal(expected, x);
    }

    private static void InterleavedMatchesReference<T>(int channels, int positions, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = WithNaN(Data<T>(9, channels * positions));
        var expected = ScalarReference.DropoutInterleaved(x, channels, Key, Threshold, scale);
        var y = new T[x.Length];
        NormalizationKernels.DropoutInterleaved<T>(x, y, channels, Key, Threshold, scale);
        Assert.Equal(expected, y);

        NormalizationKernels.DropoutInterleaved<T>(x, x, channels, Key, Threshold, scale);
        Assert.Equal(expected, x);
    }

    // NaN in a few places, so that both a dropped and a kept NaN occur across the cases.
    private static T[] WithNaN<T>(T[] x)
        where T : IFloatingPointIeee754<T>
    {
        for (int i = 1; i < x.Length; i += 13)
        {
            x[i] = T.NaN;
        }

        return x;
    }

    private static T[] Data<T>(int seed, int length)
        where T : IFloatingPointIeee754<T> =>
        Array.ConvertAll(SeededData.NormalDouble(seed, length, 0, 1), T.CreateTruncating);
}
