using Xunit.Sdk;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>Float comparisons with a tolerance scaled to the magnitude of the expected values.</summary>
internal static class Approx
{
    /// <summary>Asserts |actual - expected| &lt;= absolute + relative * |expected| element by element.</summary>
    public static void Equal(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double relative, double absolute, string what)
    {
        var a = new double[actual.Length];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = actual[i];
        }

        Equal(expected, a, relative, absolute, what);
    }

    /// <summary>Asserts |actual - expected| &lt;= absolute + relative * |expected| element by element, in double.</summary>
    public static void Equal(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double relative, double absolute, string what)
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException($"{what}: length {actual.Length}, expected {expected.Length}");
        }

        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (!(Math.Abs(a - e) <= absolute + (relative * Math.Abs(e))))
            {
                throw new XunitException($"{what}[{i}]: expected {e:R}, got {a:R} (|diff| {Math.Abs(a - e):E3} > {absolute:E1} + {relative:E1} * |expected|)");
            }
        }
    }

    public static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, double absolute, string what)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++)
        {
            e[i] = expected[i];
        }

        Equal(e, actual, relative, absolute, what);
    }
}
