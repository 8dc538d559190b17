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

    public static void ThrowIfLengthDiffers(int expected, int actual, string paramName)
    {
        if (expected != actual)
        {
            ThrowLengthMismatch(paramName, expected, actual);
        }
    }
}
