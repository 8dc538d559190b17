using System.Numerics;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>
/// torchvision's <c>Normalize(mean, std)</c> as PyTorch computes it on a CPU tensor of T (float32 or float64):
/// <c>tensor.sub_(mean).div_(std)</c> with mean and std converted to T, one subtraction and one division, each rounded
/// once. Written in C# with T arithmetic (no Python in the tests), and the seeded samples the bit-exactness tests feed it.
/// </summary>
internal static class TorchvisionReference
{
    /// <summary>ImageNet's constants, R, G, B.</summary>
    public static readonly double[] ImageNetMean = [0.485, 0.456, 0.406];

    public static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    /// <summary><c>(x - (T)mean) / (T)std</c> in T.</summary>
    public static T Normalize<T>(T x, double mean, double std)
        where T : IFloatingPointIeee754<T> =>
        (x - T.CreateTruncating(mean)) / T.CreateTruncating(std);

    /// <summary>
    /// One channel's inputs, in a seeded order: <paramref name="uniform"/> values in [0, 1) with every bit of their
    /// significand random (what arbitrary pixels look like after a resize or an augmentation), every pixel level
    /// <c>k / 255</c> (ToTensor's), the channel's mean and its neighbours (x - mean rounds to 0 or cancels), random bit
    /// patterns over T's whole range (negatives, huge, tiny, subnormal: one in ten of <paramref name="uniform"/>), and
    /// the special values (±0, ±infinity, NaN, the extremes).
    /// </summary>
    public static T[] Sample<T>(int seed, int uniform, double mean)
        where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        var random = new Random(seed);
        var values = new List<T>(uniform + (uniform / 10) + 300);
        for (int i = 0; i < uniform; i++)
        {
            values.Add(Uniform<T>(random));
        }

        for (int k = 0; k < 256; k++)
        {
            values.Add(T.CreateTruncating(k) / T.CreateTruncating(255));
        }

        T m = T.CreateTruncating(mean);
        values.AddRange([m, T.BitIncrement(m), T.BitDecrement(m), T.BitIncrement(T.BitIncrement(m)), -m]);
        for (int i = 0; i < uniform / 10; i++)
        {
            values.Add(AnyBits<T>(random));
        }

        values.AddRange([T.Zero, T.NegativeZero, T.Epsilon, -T.Epsilon, T.MaxValue, T.MinValue, T.One, -T.One,
            T.PositiveInfinity, T.NegativeInfinity, T.NaN, T.BitDecrement(T.One), T.CreateTruncating(1e-30), T.CreateTruncating(-1e30)]);
        return [.. values];
    }

    /// <summary>A value in [0, 1): a random double, rounded to T (so every bit of a float's significand is random).</summary>
    public static T Uniform<T>(Random random)
        where T : IFloatingPointIeee754<T>
    {
        T value = T.CreateTruncating(random.NextDouble());
        return value < T.One ? value : T.BitDecrement(T.One);
    }

    /// <summary>A T of uniformly random bits: any sign, any exponent, subnormals, and now and then infinity or NaN.</summary>
    public static T AnyBits<T>(Random random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            float f = BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
            return (T)(object)f;
        }

        return (T)(object)BitConverter.Int64BitsToDouble(random.NextInt64() ^ ((long)random.Next(2) << 63));
    }

    /// <summary>
    /// Asserts that <paramref name="actual"/> has <paramref name="expected"/>'s bits (a NaN matching any NaN), and says
    /// how many differ and where the first one is.
    /// </summary>
    public static void AssertBitIdentical<T>(T[] expected, T[] actual, T[] inputs, Func<int, string> where)
        where T : IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        int differ = 0, first = -1;
        for (int k = 0; k < expected.Length; k++)
        {
            bool same = T.IsNaN(expected[k]) ? T.IsNaN(actual[k]) : Bits(expected[k]) == Bits(actual[k]);
            if (!same)
            {
                differ++;
                first = first < 0 ? k : first;
            }
        }

        Assert.True(differ == 0,
            $"{differ} of {expected.Length} outputs differ from torchvision's; the first, {where(first)}: x = {inputs[Math.Max(first, 0)]:R}, ours {actual[Math.Max(first, 0)]:R}, torchvision {expected[Math.Max(first, 0)]:R}");
    }

    private static long Bits<T>(T value)
        where T : IFloatingPointIeee754<T> =>
        value switch
        {
            float f => BitConverter.SingleToInt32Bits(f),
            double d => BitConverter.DoubleToInt64Bits(d),
            _ => throw new NotSupportedException(typeof(T).Name),
        };
}
