using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Fitting;

/// <summary>
/// The check of a sparse row's indices, for every path that reads a sparse vector of an input column (the fits, the
/// transforms, the training passes): strictly ascending and within the vector's slots, as ML.NET's <c>VBuffer</c>
/// requires but checks only in its debug builds. A row that breaks it is refused with an
/// <see cref="InvalidOperationException"/> naming the column and the first wrong index, instead of an
/// <see cref="IndexOutOfRangeException"/>, values in the wrong slots, or a slot counted twice.
/// </summary>
/// <remarks>
/// One comparison per index, O(non-zeros). A loop that already walks the indices (the sparse fit's prefetch, the
/// scale-only transform) tests <see cref="Follows"/> in its own pass and calls <see cref="Throw"/>; other paths call
/// <see cref="Check"/>. It lives in Fitting, the lowest folder that reads sparse rows, so that the stages use it too.
/// </remarks>
internal static class SparseIndices
{
    /// <summary>Throws unless <paramref name="indices"/> are strictly ascending and within [0, <paramref name="length"/>).</summary>
    /// <exception cref="InvalidOperationException">They are not; the message names <paramref name="columnName"/> and the first wrong index.</exception>
    public static void Check(ReadOnlySpan<int> indices, int length, string columnName)
    {
        int previous = -1;
        foreach (int j in indices)
        {
            if (!Follows(previous, j, length))
            {
                Throw(previous, j, length, columnName);
            }

            previous = j;
        }
    }

    /// <summary>Whether index <paramref name="j"/> may follow <paramref name="previous"/> (-1 for the first) in a vector of <paramref name="length"/> slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Follows(int previous, int j, int length) => (uint)j < (uint)length && j > previous;

    /// <summary>
    /// Throws the error for index <paramref name="j"/>, which may not follow <paramref name="previous"/> (-1 for the first
    /// index), as <see cref="Follows"/> said. Scalars only: the caller's loop keeps its span untouched by the call.
    /// </summary>
    /// <remarks>Not marked NoInlining: the JIT then sees that it never returns, keeps it out of line and lays the call out
    /// as a cold block of the caller's loop, as it does an inline <c>throw</c>.</remarks>
    [DoesNotReturn]
    public static void Throw(int previous, int j, int length, string columnName)
    {
        string problem = (uint)j >= (uint)length ? $"index {j} outside its {length} slots"
            : j == previous ? $"index {j} twice"
            : $"index {j} after index {previous}";
        string expected = length > 0 ? $"strictly ascending indices from 0 to {length - 1}" : "no indices (it has no slots)";
        throw new InvalidOperationException($"Column '{columnName}' gave a malformed sparse vector: expected {expected}, got {problem}.");
    }
}
