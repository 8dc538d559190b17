using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ml.Normalization.Tests.TestSupport;
using static Ml.Normalization.Tests.TestSupport.TorchvisionReference;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// A pure standardization (gamma 1, beta 0, epsilon 0, centered: <see cref="BatchNormalizationParameters.FromMeanAndStd"/>)
/// is torchvision's <c>Normalize</c> bit for bit: a Single column gives float32 <c>(x - (float)mean) / (float)std</c>,
/// a Double column double <c>(x - mean) / std</c>, through Transform and through the ONNX export in ONNX Runtime, per
/// slot and per channel in both layouts, on a million seeded values per channel and the edge cases.
/// </summary>
public class TorchvisionNormalizeTests
{
    // 7 x 143 positions per channel: a multiple of no vector width, so channels-first planes, channels-last blocks and
    // per-slot rows all end in a scalar tail.
    private const int Channels = 3, Height = 7, Width = 143, Spatial = Height * Width;
    private const int UniformPerChannel = 1_000_000;

    public static TheoryData<ChannelLayout, bool> Layouts()
    {
        var data = new TheoryData<ChannelLayout, bool>();
        foreach (var layout in new[] { ChannelLayout.None, ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast })
        {
            data.Add(layout, false);
            data.Add(layout, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Transform_FromMeanAndStd_EqualsTorchvisionBitForBit(ChannelLayout layout, bool isDouble)
    {
        if (isDouble)
        {
            TransformMatches<double>(layout);
        }
        else
        {
            TransformMatches<float>(layout);
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Onnx_FromMeanAndStd_EqualsTorchvisionBitForBit(ChannelLayout layout, bool isDouble)
    {
        if (isDouble)
        {
            OnnxMatches<double>(layout);
        }
        else
        {
            OnnxMatches<float>(layout);
        }
    }

    public static TheoryData<ChannelLayout, bool, int> Tails()
    {
        var data = new TheoryData<ChannelLayout, bool, int>();
        foreach (var layout in new[] { ChannelLayout.None, ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast })
        {
            foreach (int spatial in new[] { 1, 7, 8, 9, 63, 64, 65 })
            {
                data.Add(layout, false, spatial);
                data.Add(layout, true, spatial);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Tails))]
    public void Transform_PureStandardization_EqualsTheFormula_AtEveryVectorTail(ChannelLayout layout, bool isDouble, int spatial)
    {
        // Constants other than ImageNet's, each a std whose reciprocal is inexact in float and double.
        double[] mean = [0.3, -1.7, 12.5], std = [0.7, 3.3, 0.011];
        if (isDouble)
        {
            TailsMatch<double>(layout, spatial, mean, std);
        }
        else
        {
            TailsMatch<float>(layout, spatial, mean, std);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Transform_PureStandardizationOfAScalarColumn_EqualsTorchvisionBitForBit(bool isDouble)
    {
        var ml = new MLContext(seed: 1);
        var p = new BatchNormalizationParameters("Out", "Value", [ImageNetMean[1]], [ImageNetStd[1] * ImageNetStd[1]], epsilon: 0);
        var stage = ml.Transforms.BatchNormalize(p);
        if (isDouble)
        {
            var x = Sample<double>(31, 100_000, ImageNetMean[1]);
            var data = ml.Data.LoadFromEnumerable(x.Select(v => new DoubleScalar { Value = v }));
            var output = stage.Fit(data).Transform(data).GetColumn<double>("Out").ToArray();
            AssertBitIdentical(x.Select(v => Normalize(v, ImageNetMean[1], ImageNetStd[1])).ToArray(), output, x, k => $"row {k}");
        }
        else
        {
            var x = Sample<float>(32, 100_000, ImageNetMean[1]);
            var data = ml.Data.LoadFromEnumerable(x.Select(v => new TestData.ScalarRow { Value = v }));
            var output = stage.Fit(data).Transform(data).GetColumn<float>("Out").ToArray();
            AssertBitIdentical(x.Select(v => Normalize(v, ImageNetMean[1], ImageNetStd[1])).ToArray(), output, x, k => $"row {k}");
        }
    }

    [Fact]
    public void Transform_ImageNetGreen_GivesTorchvisionsValue_WhereTheReciprocalMissedBy2Ulp()
    {
        // The example: float32 (0.23357566 - 0.456) / 0.224 is -0.99296576 (computed outside .NET, emulating
        // float32 in Python's doubles); (x - mean) * (float)(1 / std) gave -0.9929659.
        var ml = new MLContext(seed: 1);
        var data = ImageData.View(ml, [[0.5f, 0.23357566f, 0.5f]], 3, 1, 1);
        var output = ml.Transforms.BatchNormalize(BatchNormalizationParameters.FromMeanAndStd("Out", "Pixels", ChannelLayout.ChannelsFirst, ImageNetMean, ImageNetStd))
            .Fit(data).Transform(data).GetColumn<VBuffer<float>>("Out").Single().DenseValues().ToArray();

        Assert.Equal(-0.99296576f, output[1]);
    }

    [Fact]
    public void SavedAndLoaded_FromMeanAndStd_StillEqualsTorchvisionBitForBit()
    {
        // The divide form is decided from the stored values (gamma 1, beta 0, epsilon 0), so a loaded model keeps it.
        var ml = new MLContext(seed: 1);
        var random = new Random(51);
        var x = Enumerable.Range(0, 40 * Channels * 16).Select(_ => Uniform<float>(random)).ToArray();
        var data = ImageData.View(ml, x.Chunk(Channels * 16).ToArray(), 4, 4, Channels);
        var model = ml.Transforms.BatchNormalize(BatchNormalizationParameters.FromMeanAndStd("Out", "Pixels", ChannelLayout.ChannelsLast, ImageNetMean, ImageNetStd)).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;

        var output = ml.Model.Load(stream, out _).Transform(data).GetColumn<VBuffer<float>>("Out").SelectMany(v => v.DenseValues()).ToArray();

        AssertBitIdentical(x.Select((v, k) => Normalize(v, ImageNetMean[k % Channels], ImageNetStd[k % Channels])).ToArray(), output, x, k => $"value {k}");
    }

    [Fact]
    public void Transform_StdThatIsSubnormalInFloat_DividesByIt_BitForBit()
    {
        // 1e-40 is a subnormal float: its reciprocal 1e40 is beyond float, which a multiply would apply as two factors
        // of 1e20 (rounded twice). Dividing by (float)1e-40 is torch's float32 arithmetic, exactly.
        var ml = new MLContext(seed: 1);
        var random = new Random(41);
        var x = Enumerable.Range(0, 20_000).Select(i => i % 2 == 0 ? AnyBits<float>(random) : Uniform<float>(random) * 1e-37f).ToArray();
        var data = TestData.Vectors(ml, x.Chunk(40), 40);
        double[] mean = [0.0, 1e-38], std = [1e-40, 3e-39];
        var p = BatchNormalizationParameters.FromMeanAndStd("Out", "Features", ChannelLayout.ChannelsLast, mean, std);

        var output = ml.Transforms.BatchNormalize(p).Fit(data).Transform(data).GetColumn<VBuffer<float>>("Out").SelectMany(v => v.DenseValues()).ToArray();

        var expected = x.Select((v, k) => Normalize(v, mean[k % 2], std[k % 2])).ToArray();
        AssertBitIdentical(expected, output, x, k => $"slot {k}");
    }

    [Fact]
    public void Transform_StdBeyondFloatsRange_KeepsTheMultiplyFormInFloat_AndDividesInDouble()
    {
        // (float)1e-50 is 0 and (float)1e39 is infinity: no float divisor is the std, so a Single column keeps
        // (x - mean) * scale with the scale computed in double (two factors where it is beyond float), and x = mean
        // still gives 0, not 0 / 0. A Double column divides by the std itself.
        var ml = new MLContext(seed: 1);
        double[] mean = [0.25, 3e38], std = [1e-50, 1e39];
        var p = BatchNormalizationParameters.FromMeanAndStd("Out", "Features", ChannelLayout.ChannelsLast, mean, std);
        float[] x = [0.25f, 0.25f + 1e-30f, 0.3f, -1f, 3e38f, 2e38f, 0f, -3e38f];
        var data = TestData.Vectors(ml, [x], x.Length);
        var doubles = TestData.DoubleVectors(ml, [x.Select(v => (double)v).ToArray()], x.Length);
        var stage = ml.Transforms.BatchNormalize(p);

        var single = stage.Fit(data).Transform(data).GetColumn<VBuffer<float>>("Out").Single().DenseValues().ToArray();
        var wide = stage.Fit(doubles).Transform(doubles).GetColumn<VBuffer<double>>("Out").Single().DenseValues().ToArray();

        float[] multiplied = new float[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            int c = k % 2;
            float centered = x[k] - (float)mean[c];
            if (c == 0)
            {
                float factor = (float)(1 / Math.Pow(std[0] * std[0], 0.25)); // the scale 1e50 as two factors of 1e25
                multiplied[k] = ((centered * factor) * factor) + 0f;
            }
            else
            {
                multiplied[k] = (centered * (float)(1 / std[1])) + 0f;
            }
        }

        Assert.Equal(0f, single[0]);
        Assert.Equal(multiplied, single);
        AssertBitIdentical(x.Select((v, k) => Normalize((double)v, mean[k % 2], std[k % 2])).ToArray(), wide, x.Select(v => (double)v).ToArray(), k => $"slot {k}");
    }

    [Fact]
    public void FromMeanAndStd_KeepsEveryStdInItsRange_AsTheSquareRootOfItsSquare()
    {
        // The design's premise: in binary IEEE arithmetic rounding to nearest, sqrt(fl(s * s)) == s exactly when s * s
        // neither overflows nor underflows, so the stored variance gives back the std: (float)sqrt(variance) is
        // (float)std. Over random significands at every exponent FromMeanAndStd accepts, and its two ends.
        var random = new Random(61);
        var stds = new List<double> { Math.ScaleB(1, -511), double.BitDecrement(Math.ScaleB(1, 512)), 0.229, 0.224, 0.225 };
        for (int i = 0; i < 2_000_000; i++)
        {
            long exponent = random.Next(-511, 512) + 1023;
            stds.Add(BitConverter.Int64BitsToDouble((exponent << 52) | (random.NextInt64() & ((1L << 52) - 1))));
        }

        foreach (double s in stds)
        {
            if (Math.Sqrt(s * s) != s)
            {
                Assert.Fail($"sqrt({s:R}^2) = {Math.Sqrt(s * s):R}");
            }
        }

        var p = BatchNormalizationParameters.FromMeanAndStd("o", "i", ChannelLayout.ChannelsFirst, new double[stds.Count], stds);
        Assert.Equal(stds, p.RunningVariance.Select(Math.Sqrt));
        Assert.Equal(stds.Select(s => (float)s), p.RunningVariance.Select(v => (float)Math.Sqrt(v)));
        foreach (double outside in new[] { double.BitDecrement(Math.ScaleB(1, -511)), Math.ScaleB(1, 512) })
        {
            Assert.Equal("std", Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormalizationParameters.FromMeanAndStd("o", "i", ChannelLayout.ChannelsFirst, [0.0], [outside])).ParamName);
        }
    }

    private static void TransformMatches<T>(ChannelLayout layout)
        where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        var ml = new MLContext(seed: 1);
        var (x, channel, rows) = Images<T>(layout, seed: 7);
        var data = View(ml, x, rows, Dimensions(layout));

        var output = ml.Transforms.BatchNormalize(ImageNet(layout)).Fit(data).Transform(data)
            .GetColumn<VBuffer<T>>("Normalized").SelectMany(v => v.DenseValues()).ToArray();

        AssertBitIdentical(Expected(x, channel), output, x, k => Where(k, channel));
    }

    private static void OnnxMatches<T>(ChannelLayout layout)
        where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        var ml = new MLContext(seed: 1);
        var (x, channel, rows) = Images<T>(layout, seed: 8);
        var dimensions = Dimensions(layout);
        var data = View(ml, x[..(Channels * Spatial)], 1, dimensions); // the export needs the schema only
        var model = ml.Transforms.BatchNormalize(ImageNet(layout)).Fit(data);

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        int[] shape = [rows, .. dimensions];
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Pixels", new DenseTensor<T>(x, shape))]);
        var output = results.Single(r => r.Name == "Normalized.output").AsTensor<T>().ToArray();

        AssertBitIdentical(Expected(x, channel), output, x, k => Where(k, channel));
    }

    private static void TailsMatch<T>(ChannelLayout layout, int spatial, double[] mean, double[] std)
        where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        var ml = new MLContext(seed: 1);
        const int rows = 9; // channels-last blocks of a period, and a row's vectors, both end in tails
        var random = new Random(spatial);
        int size = Channels * spatial;
        var x = new T[rows * size];
        var channel = new int[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            int s = k % size;
            channel[k] = layout == ChannelLayout.ChannelsLast ? s % Channels : s / spatial;
            x[k] = (Uniform<T>(random) * T.CreateTruncating(30)) - T.CreateTruncating(10);
        }

        var p = layout == ChannelLayout.None
            ? new BatchNormalizationParameters("Normalized", "Pixels", Enumerable.Range(0, size).Select(j => mean[j / spatial]).ToArray(),
                Enumerable.Range(0, size).Select(j => std[j / spatial] * std[j / spatial]).ToArray(), epsilon: 0)
            : BatchNormalizationParameters.FromMeanAndStd("Normalized", "Pixels", layout, mean, std);
        int[] dimensions = layout == ChannelLayout.ChannelsLast ? [spatial, Channels] : [Channels, spatial];
        var data = View(ml, x, rows, dimensions);

        var output = ml.Transforms.BatchNormalize(p).Fit(data).Transform(data).GetColumn<VBuffer<T>>("Normalized").SelectMany(v => v.DenseValues()).ToArray();

        AssertBitIdentical(x.Select((v, k) => Normalize(v, mean[channel[k]], std[channel[k]])).ToArray(), output, x, k => Where(k, channel));
    }

    /// <summary>
    /// Rows of 3 x 7 x 143 values: per channel, <see cref="TorchvisionReference.Sample{T}"/> of a million uniform
    /// values and the edge cases, then more uniform values to fill the last row; <paramref name="layout"/> None is laid
    /// out channels first (its per-slot parameters repeat each channel's over that channel's slots).
    /// </summary>
    private static (T[] X, int[] Channel, int Rows) Images<T>(ChannelLayout layout, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        var samples = Enumerable.Range(0, Channels).Select(c => Sample<T>(seed + c, UniformPerChannel, ImageNetMean[c])).ToArray();
        int rows = (samples.Max(s => s.Length) + Spatial - 1) / Spatial;
        var x = new T[rows * Channels * Spatial];
        var channel = new int[x.Length];
        var random = new Random(seed);
        for (int c = 0; c < Channels; c++)
        {
            for (int k = 0; k < rows * Spatial; k++)
            {
                int slot = ((k / Spatial) * Channels * Spatial) + ImageData.SlotOf(layout, Channels, Spatial, c, k % Spatial);
                x[slot] = k < samples[c].Length ? samples[c][k] : Uniform<T>(random);
                channel[slot] = c;
            }
        }

        return (x, channel, rows);
    }

    private static BatchNormalizationParameters ImageNet(ChannelLayout layout) => layout == ChannelLayout.None
        ? new BatchNormalizationParameters("Normalized", "Pixels", Enumerable.Range(0, Channels * Spatial).Select(j => ImageNetMean[j / Spatial]).ToArray(),
            Enumerable.Range(0, Channels * Spatial).Select(j => ImageNetStd[j / Spatial] * ImageNetStd[j / Spatial]).ToArray(), epsilon: 0)
        : BatchNormalizationParameters.FromMeanAndStd("Normalized", "Pixels", layout, ImageNetMean, ImageNetStd);

    // Per slot: a plain vector (the export then takes [N, slots]); per channel: the image's dimensions.
    private static int[] Dimensions(ChannelLayout layout) => layout switch
    {
        ChannelLayout.ChannelsFirst => [Channels, Height, Width],
        ChannelLayout.ChannelsLast => [Height, Width, Channels],
        _ => [Channels * Spatial],
    };

    private static T[] Expected<T>(T[] x, int[] channel)
        where T : IFloatingPointIeee754<T> =>
        x.Select((v, k) => Normalize(v, ImageNetMean[channel[k]], ImageNetStd[channel[k]])).ToArray();

    private static string Where(int k, int[] channel) => $"value {k} (channel {channel[Math.Max(k, 0)]})";

    private static IDataView View<T>(MLContext ml, T[] x, int rows, int[] dimensions)
    {
        int size = x.Length / rows;
        return x switch
        {
            float[] f => ImageData.View(ml, f.Chunk(size).ToArray(), dimensions),
            double[] d => ImageData.DoubleView(ml, d.Chunk(size).ToArray(), dimensions),
            _ => throw new NotSupportedException(typeof(T).Name),
        };
    }

    private sealed class DoubleScalar
    {
        public double Value { get; set; }
    }
}
