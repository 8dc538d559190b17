using System.Globalization;

namespace Ml.Normalization.Benchmarks;

/// <summary>A benchmark's "rows x features" parameter, e.g. <c>"65536x64"</c>, as the two counts.</summary>
internal static class BenchShape
{
    public static (int Rows, int Features) Parse(string shape)
    {
        var parts = shape.Split('x');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
