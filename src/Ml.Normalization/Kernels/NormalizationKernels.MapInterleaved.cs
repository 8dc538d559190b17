using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

// The driver of the interleaved-channel maps (NormalizeInterleaved, StandardizeInterleaved): element i of a span takes
// the parameters of channel i % channels. The parameters are repeated over one cycle, the least common multiple of
// the channel count and the vector width, plus one vector, so the vector at element i loads them at i % cycle, and
// the walk is MapVectorRow's over the whole span: one unaligned vector at the start and at the end, every vector in
// between stored aligned. (Walking the span as rows of one cycle each, as the getters did, paid a start and an end
// per 24-float row when the buffer was not aligned.)
internal static partial class NormalizationKernels
{
    // Cycle plus one vector, in elements, up to which the repeated parameters live on the stack; longer cycles walk the
    // span a period of channels at a time instead.
    private const int MaxRepeatedParameters = 256;

    /// <summary>
    /// The cycle (in elements) of the repeated parameters for a vector walk of <paramref name="length"/> elements of
    /// <paramref name="channels"/> interleaved channels; 0 where there is no vector walk (no vector hardware, a span
    /// shorter than a vector) or the repeated parameters would exceed <see cref="MaxRepeatedParameters"/>.
    /// </summary>
    private static int InterleavedCycle<T>(int channels, int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = Vector<T>.Count;
        if (!Vector.IsHardwareAccelerated || !Vector<T>.IsSupported || length < width || channels > MaxRepeatedParameters)
        {
            return 0;
        }

        int cycle = channels / (int)BigInteger.GreatestCommonDivisor(channels, width) * width;
        return cycle + width <= MaxRepeatedParameters ? cycle : 0;
    }

    /// <summary>Fills <paramref name="repeated"/> with <paramref name="perChannel"/> repeated: <c>repeated[k] = perChannel[k % channels]</c>.</summary>
    private static void RepeatChannels<T>(ReadOnlySpan<T> perChannel, Span<T> repeated)
    {
        for (int k = 0; k < repeated.Length; k += perChannel.Length)
        {
            perChannel[..Math.Min(perChannel.Length, repeated.Length - k)].CopyTo(repeated[k..]);
        }
    }

    // Every element of a span of `length` interleaved values, with an operator whose parameters are repeated over
    // `cycle` + one vector (InterleavedCycle, RepeatChannels): the column of element i is i % cycle. The first and last
    // vectors are computed before any store (the destination may be the input); between them the phase of a vector
    // starts at the alignment lead every cycle, so its column is lead + k with no modulo in the loop.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MapInterleaved<T, TOperator>(TOperator op, int length, int cycle, ref T destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IRowMapOperator<T>, allows ref struct
    {
        nuint width = (nuint)Vector<T>.Count, n = (nuint)length, c = (nuint)cycle, last = n - width;
        nuint lead = AlignmentLead(ref destination);
        bool ragged = (n - lead) % width != 0;
        var firstColumn = lead != 0 ? op.LoadColumn(0) : default;
        var lastColumn = ragged ? op.LoadColumn(last % c) : default;
        var first = lead != 0 ? op.Compute(firstColumn, 0) : default;
        var final = ragged ? op.Compute(lastColumn, last) : default;
        nuint j = lead, blockRows = TOperator.BlockRows == 4 ? 4u : 2u;

        // A cycle of one or three vectors (channel counts dividing the width, and RGB's 3, 6, 12 or 24 channels): its
        // parameters held in registers over the whole span, with no loads but the data's.
        if (c == width)
        {
            var column = op.LoadColumn(lead);
            for (; j <= last; j += width)
            {
                op.Store(op.Compute(column, j), column, j);
            }
        }
        else if (c == 3 * width)
        {
            var column0 = op.LoadColumn(lead);
            var column1 = op.LoadColumn(lead + width);
            var column2 = op.LoadColumn(lead + (2 * width));
            for (; j + c <= n; j += c)
            {
                var v0 = op.Compute(column0, j);
                var v1 = op.Compute(column1, j + width);
                var v2 = op.Compute(column2, j + (2 * width));
                op.Store(v0, column0, j);
                op.Store(v1, column1, j + width);
                op.Store(v2, column2, j + (2 * width));
            }
        }

        // Blocks of BlockRows cycles sharing each load of the parameters (MapBlock, with the cycle as the row: every
        // cycle of a block has the same phase), then single cycles, then single vectors.
        for (; j + (blockRows * c) <= n; j += blockRows * c)
        {
            MapBlock<T, TOperator>(op, j - lead, c, lead, lead + c - width);
        }

        for (; j + c <= n; j += c)
        {
            for (nuint k = 0; k < c; k += width)
            {
                var column = op.LoadColumn(lead + k);
                op.Store(op.Compute(column, j + k), column, j + k);
            }
        }

        for (nuint k = lead; j <= last; j += width, k += width)
        {
            var column = op.LoadColumn(k);
            op.Store(op.Compute(column, j), column, j);
        }

        if (lead != 0)
        {
            op.Store(first, firstColumn, 0);
        }

        if (ragged)
        {
            op.Store(final, lastColumn, last);
        }
    }

    // The same map with the parameters one per channel (where InterleavedCycle gives 0): a period of `channels`
    // elements at a time, each as a row of MapVectorRow where it is at least a vector long and with vector hardware,
    // else element by element (the scalar reference path: the operator's scalar form, the same operations).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MapInterleavedByPeriod<T, TOperator>(TOperator op, int length, int channels, ref T destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IRowMapOperator<T>, allows ref struct
    {
        bool vectors = Vector.IsHardwareAccelerated && Vector<T>.IsSupported;
        for (int start = 0; start < length; start += channels)
        {
            int period = Math.Min(channels, length - start);
            if (vectors && period >= Vector<T>.Count)
            {
                MapVectorRow<T, TOperator>(op, (nuint)start, (nuint)period, ref destination);
                continue;
            }

            for (int k = 0; k < period; k++)
            {
                op.InvokeScalar((nuint)(start + k), (nuint)k);
            }
        }
    }
}
