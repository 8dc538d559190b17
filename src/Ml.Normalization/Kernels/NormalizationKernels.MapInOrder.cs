using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

// The driver of a row-major block walked in memory order, for blocks far larger than the caches (the layers' large
// calls): element i takes the parameters of column i % F, repeated over one cycle (the least common multiple of F and
// the vector width) plus one vector, as MapInterleaved does, so the vector at element i loads them at i % cycle. One
// unaligned vector at the start and at the end (computed before any store, so the destination may be the input), and
// every vector in between once, in address order, stored aligned. MapRows instead walks four rows side by side to share
// each load of the parameters, which pays where the block is in the cache; on a block streamed from memory (65536 x 64
// floats, 16 MB each way) that walk took about 1.3-1.4x as long as one in address order (measured, docs/benchmarks.md).
internal static partial class NormalizationKernels
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MapInOrder<T, TOperator>(TOperator op, int length, int cycle, ref T destination)
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
        nuint k = lead;
        for (nuint j = lead; j <= last; j += width)
        {
            var column = op.LoadColumn(k);
            op.Store(op.Compute(column, j), column, j);
            k += width;
            k = k >= c ? k - c : k;
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
}
