using System.Runtime.InteropServices;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// The update floor's per-slot record (<see cref="SparseBenchmarks"/>, <see cref="SparseFixedCostBenchmarks"/>): one
/// 64-byte cache line per slot, of which the floor adds into two values, as the sparse fit's records were until
/// session 10 (the floor is kept as it was measured against, so earlier ratios stay comparable).
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal struct FloorSlotRecord
{
    public double Sum;
    public double SumOfSquares;
}
