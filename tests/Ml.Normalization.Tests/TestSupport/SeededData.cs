namespace Ml.Normalization.Tests.TestSupport;

/// <summary>Seeded random data for tests; never unseeded.</summary>
internal static class SeededData
{
    /// <summary>Lengths that cover every vector width (4, 8, 16 floats) and the leftover tail.</summary>
    public static readonly int[] SimdLengths = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129];

    public static TheoryData<int> Lengths(int minimum = 0)
    {
        var data = new TheoryData<int>();
        foreach (var n in SimdLengths)
        {
            if (n >= minimum)
            {
                data.Add(n);
            }
        }

        return data;
    }

    public static float[] Normal(int seed, int length, double mean = 0, double std = 1)
    {
        var random = new Random(seed);
        var result = new float[length];
        for (int i = 0; i < length; i++)
        {
            // Box-Muller: enough for test data.
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            result[i] = (float)(mean + (std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2)));
        }

        return result;
    }

    /// <summary>Normal values in double precision, for data that float cannot hold or would round.</summary>
    public static double[] NormalDouble(int seed, int length, double mean = 0, double std = 1)
    {
        var random = new Random(seed);
        var result = new double[length];
        for (int i = 0; i < length; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            result[i] = mean + (std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        return result;
    }

    public static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);
}
