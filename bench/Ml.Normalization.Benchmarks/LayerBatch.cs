namespace Ml.Normalization.Benchmarks;

/// <summary>The arrays the layer benchmarks share: a seeded input and upstream gradient, and outputs of the same length.</summary>
public static class LayerBatch
{
    /// <summary>
    /// A rows x features batch: x uniform in [-2, 2) plus 0.01 per feature index (so the features' means differ), dy
    /// uniform in [-0.5, 0.5), seed 42; y and dx zeroed.
    /// </summary>
    public static (float[] X, float[] Y, float[] Dy, float[] Dx) RowMajor(int rows, int features) =>
        Create(rows * features, (i, u) => (float)((u * 4.0) - 2.0) + (i % features * 0.01f));

    /// <summary>
    /// <paramref name="length"/> values: x[i] = <paramref name="input"/>(i, u) for a uniform draw u in [0, 1), dy uniform
    /// in [-0.5, 0.5), drawn alternately from one generator with seed 42; y and dx zeroed.
    /// </summary>
    public static (float[] X, float[] Y, float[] Dy, float[] Dx) Create(int length, Func<int, double, float> input)
    {
        var random = new Random(42);
        var x = new float[length];
        var dy = new float[length];
        for (int i = 0; i < length; i++)
        {
            x[i] = input(i, random.NextDouble());
            dy[i] = (float)(random.NextDouble() - 0.5);
        }

        return (x, new float[length], dy, new float[length]);
    }
}
