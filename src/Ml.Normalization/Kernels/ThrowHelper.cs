using System.Diagnostics.CodeAnalysis;

namespace Ml.Normalization.Kernels;

/// <summary>Throws the argument exceptions of the kernels and layers; every message names the parameter.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowLengthMismatch(string paramName, int expected, int actual) =>
        throw new ArgumentException($"Length of '{paramName}' must be {expected}, got {actual}.", paramName);

    [DoesNotReturn]
    public static void ThrowDestinationTooShort(string paramName, int required, int actual) =>
        throw new ArgumentException($"Destination '{paramName}' is too short: it needs {required} elements, got {actual}.", paramName);

    [DoesNotReturn]
    public static void ThrowOutOfRange(string paramName, object? actual, string expected) =>
        throw new ArgumentOutOfRangeException(paramName, actual, $"'{paramName}' must be {expected}, got {actual}.");

    /// <summary>
    /// The length of a <paramref name="rows"/> x <paramref name="features"/> block; a product beyond <see cref="int"/>
    /// (which would wrap and pass the length checks, then be addressed past the spans) is refused naming
    /// <paramref name="paramName"/>.
    /// </summary>
    public static int BlockLength(int rows, int features, string paramName = "rows")
    {
        long length = (long)rows * features;
        if (rows < 0 || features < 0 || length > int.MaxValue)
        {
            ThrowOutOfRange(paramName, rows, $"between 0 and {int.MaxValue / Math.Max(features, 1)} for {features} features (at most {int.MaxValue} values)");
        }

        return (int)length;
    }

    /// <summary>A layer's <c>MaxDegreeOfParallelism</c> as set: <paramref name="value"/>, refused below 1.</summary>
    public static int ThreadCount(int value)
    {
        if (value < 1)
        {
            ThrowOutOfRange(nameof(value), value, "at least 1");
        }

        return value;
    }

    public static void ThrowIfLengthDiffers(int expected, int actual, string paramName)
    {
        if (expected != actual)
        {
            ThrowLengthMismatch(paramName, expected, actual);
        }
    }
}
