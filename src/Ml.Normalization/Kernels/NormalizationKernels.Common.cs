using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ml.Normalization.Kernels;

// What the kernels share: the loop drivers, the operator interfaces they call, and the small helpers every operator
// uses. The row kernels come in two loop shapes, so there are two row drivers: MapRows writes every element of a
// rows x F block from the same element of its inputs and the column's parameters (Normalize, Standardize,
// NormalizeTraining, the dx pass of the backward), ReduceRows sums a rows x F block down its rows into per-column sums
// (BatchMoments, the dGamma/dBeta pass of the backward). MapPlane is MapRows for one span with scalar parameters, a
// channel plane (NormalizePlane, StandardizePlane, the spatial layer's NormalizePlaneTraining, PlaneGradient). UpdateSlots is the one-dimensional driver
// of the fit's per-slot sums: each value updates the double state of its slot (AccumulateMoments,
// AccumulateFiniteMoments, and what the lane kernels' register loops leave). The math lives in the operator structs,
// the memory walk here; each operator is a ref struct holding its spans' references, so the JIT specialises every
// driver for it and inlines its methods.
internal static partial class NormalizationKernels
{
    /// <summary>An element-wise map of a row-major block, called by <see cref="MapRows{T, TOperator}"/>.</summary>
    private interface IRowMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>How many rows share one load of the column parameters (1, 2 or 4).</summary>
        static abstract int BlockRows { get; }

        /// <summary>Whether the driver aligns the stores to the destination (see <see cref="AlignmentLead{T}"/>).</summary>
        static abstract bool AlignsStores { get; }

        /// <summary>The column parameters of the vector starting at <paramref name="column"/>.</summary>
        ColumnVectors<T> LoadColumn(nuint column);

        /// <summary>The value of the vector at <paramref name="index"/> (rows are F apart), read before any store.</summary>
        Vector<T> Compute(in ColumnVectors<T> column, nuint index);

        /// <summary>Writes the outputs of a value <see cref="Compute"/> gave for <paramref name="index"/>.</summary>
        void Store(Vector<T> value, in ColumnVectors<T> column, nuint index);

        /// <summary>One element, for rows narrower than a vector or no vector hardware: the same operations.</summary>
        void InvokeScalar(nuint index, nuint column);
    }

    /// <summary>An element-wise map of one span whose parameters are scalars, called by <see cref="MapPlane{T, TOperator}"/>.</summary>
    private interface IPlaneMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The value of the vector at <paramref name="index"/>, read before any store.</summary>
        Vector<T> Compute(nuint index);

        /// <summary>Writes the outputs of a value <see cref="Compute"/> gave for <paramref name="index"/>.</summary>
        void Store(Vector<T> value, nuint index);

        /// <summary>One element, for spans shorter than a vector or no vector hardware: the same operations.</summary>
        void InvokeScalar(nuint index);
    }

    /// <summary>A sum down the rows of a row-major block, called by <see cref="ReduceRows{T, TOperator}"/>.</summary>
    private interface IRowReduceOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>Whether the operator has a 512-bit form worth taking where the hardware runs it at full speed.</summary>
        static abstract bool UsesVector512 { get; }

        /// <summary>Adds rows index, index + f, index + 2f, index + 3f of the vector at <paramref name="column"/>.</summary>
        void AccumulateFour(nuint index, nuint column, nuint f);

        /// <summary>The same with 512-bit vectors.</summary>
        void AccumulateFour512(nuint index, nuint column, nuint f);

        /// <summary>The same for one element, in the grouping of a vector lane, so no result depends on the width.</summary>
        void AccumulateFourScalar(nuint index, nuint column, nuint f);

        /// <summary>Adds one element (the rows left over after the blocks of four).</summary>
        void AccumulateScalar(nuint index, nuint column);

        /// <summary>Hints the <paramref name="count"/> values from <paramref name="index"/> on (a group of four rows)
        /// ahead of the reads, or nothing (<see cref="IPrefetch"/>).</summary>
        void Prefetch(nuint index, nuint count);
    }

    /// <summary>An update of per-slot double state by one value per slot, called by <see cref="UpdateSlots{T, TOperator}"/>.</summary>
    private interface ISlotOperator
    {
        /// <summary>Updates slots <paramref name="slot"/> .. <paramref name="slot"/> + <c>Vector&lt;double&gt;.Count</c> - 1 with the lanes of <paramref name="x"/>.</summary>
        void Invoke(Vector<double> x, nuint slot);

        /// <summary>Updates one slot, with the same operations.</summary>
        void Invoke(double x, nuint slot);
    }

    /// <summary>Up to five per-column parameter vectors; an operator loads the ones it uses.</summary>
    private struct ColumnVectors<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Vector<T> P0;
        public Vector<T> P1;
        public Vector<T> P2;
        public Vector<T> P3;
        public Vector<T> P4;
    }

    /// <summary>Where the backward kernels get xHat: kept from the forward pass, or recomputed from its input; and how
    /// the forward pass writes a kept xHat.</summary>
    private interface IXHatSource
    {
        /// <summary>True: the source is x and xHat = (x - mean) * inverseStd; false: the source is xHat.</summary>
        static abstract bool Recomputes { get; }

        /// <summary>True: the forward pass writes the kept xHat's aligned vectors with non-temporal stores
        /// (<see cref="StoreStreaming{T}"/>), past the caches.</summary>
        static abstract bool Streams { get; }
    }

    private readonly struct KeptXHat : IXHatSource
    {
        public static bool Recomputes => false;

        public static bool Streams => false;
    }

    // Kept, and written past the caches: for an xHat so large that it would only evict the pass's input and output from
    // the last-level cache before Backward reads it (NormalizeTrainingStreamingXHat).
    private readonly struct StreamedXHat : IXHatSource
    {
        public static bool Recomputes => false;

        public static bool Streams => true;
    }

    private readonly struct RecomputedXHat : IXHatSource
    {
        public static bool Recomputes => true;

        public static bool Streams => false;
    }

    // Where the backward kernels read xHat at an index of a row-major block: from the xHat the forward pass kept, or
    // recomputed from the forward pass's input as (x - mean) * inverseStd with the column's mean and inverseStd
    // (TXHat.Recomputes) with NormalizeTraining's operations, so both agree bit for bit.
    private readonly ref struct XHatReader<T, TXHat>(ref T source, ref T mean, ref T inverseStd)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        private readonly ref T _source = ref source;
        private readonly ref T _mean = ref mean;
        private readonly ref T _inverseStd = ref inverseStd;

        /// <summary>The mean vector of a column, for <see cref="Load(nuint, Vector{T}, Vector{T})"/> (unused when xHat is kept).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> LoadMean(nuint column) => TXHat.Recomputes ? Vector.LoadUnsafe(ref _mean, column) : default;

        /// <summary>The inverseStd vector of a column, likewise.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> LoadInverseStd(nuint column) => TXHat.Recomputes ? Vector.LoadUnsafe(ref _inverseStd, column) : default;

        /// <summary>The xHat vector at <paramref name="index"/>, with its column's mean and inverseStd already loaded.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Load(nuint index, Vector<T> mean, Vector<T> inverseStd) =>
            TXHat.Recomputes ? (Vector.LoadUnsafe(ref _source, index) - mean) * inverseStd : Vector.LoadUnsafe(ref _source, index);

        /// <summary>The xHat vector at <paramref name="index"/>, in the column at <paramref name="column"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Load(nuint index, nuint column) => TXHat.Recomputes
            ? (Vector.LoadUnsafe(ref _source, index) - Vector.LoadUnsafe(ref _mean, column)) * Vector.LoadUnsafe(ref _inverseStd, column)
            : Vector.LoadUnsafe(ref _source, index);

        /// <summary>Prefetches the source's <paramref name="count"/> values from <paramref name="index"/> on, <typeparamref name="TPrefetch"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Prefetch<TPrefetch>(nuint index, nuint count)
            where TPrefetch : struct, IPrefetch =>
            PrefetchAhead<T, TPrefetch>(ref _source, index, count);

        /// <summary>One element's xHat, with the same operations.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T LoadScalar(nuint index, nuint column) =>
            TXHat.Recomputes ? NormalizedHatScalar(ref _source, ref _mean, ref _inverseStd, index, column) : Unsafe.Add(ref _source, index);
    }

    // Every row of a rows x F block, F = features: blocks of TOperator.BlockRows rows sharing each load of the column
    // parameters (when rows are a whole number of vectors long, so every row of a block has the same alignment), then
    // single rows. Per row: the first and last vectors (unaligned, computed before any store so the destination may
    // be an input), and whole vectors in between, aligned to the destination when the operator asks for it.
    // Never inlined (nor ReduceRows): inlined into its caller, and that into the caller's caller, the driver ran out of
    // the JIT's inlining budget and called the operator's methods, measured 5x slower.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MapRows<T, TOperator>(TOperator op, int rows, int features, ref T destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IRowMapOperator<T>, allows ref struct
    {
        nuint f = (nuint)features;
        if (!Vector.IsHardwareAccelerated || !Vector<T>.IsSupported || features < Vector<T>.Count)
        {
            for (nuint row = 0; row < (nuint)rows * f; row += f)
            {
                for (nuint j = 0; j < f; j++)
                {
                    op.InvokeScalar(row + j, j);
                }
            }

            return;
        }

        nuint width = (nuint)Vector<T>.Count, last = f - width;
        int i = 0;
        bool wholeVectors = TOperator.AlignsStores
            ? f * (nuint)Unsafe.SizeOf<T>() % (nuint)Vector<byte>.Count == 0
            : f % width == 0;
        if (TOperator.BlockRows > 1 && wholeVectors)
        {
            for (; i <= rows - TOperator.BlockRows; i += TOperator.BlockRows)
            {
                nuint row = (nuint)i * f;
                nuint lead = TOperator.AlignsStores ? AlignmentLead(ref Unsafe.Add(ref destination, row)) : 0;
                if (lead != 0)
                {
                    // The block's first and last vectors before any store; the loop then overwrites from column lead on.
                    var firstColumn = op.LoadColumn(0);
                    var lastColumn = op.LoadColumn(last);
                    var first0 = op.Compute(firstColumn, row);
                    var first1 = op.Compute(firstColumn, row + f);
                    var first2 = TOperator.BlockRows == 4 ? op.Compute(firstColumn, row + (2 * f)) : default;
                    var first3 = TOperator.BlockRows == 4 ? op.Compute(firstColumn, row + (3 * f)) : default;
                    var last0 = op.Compute(lastColumn, row + last);
                    var last1 = op.Compute(lastColumn, row + f + last);
                    var last2 = TOperator.BlockRows == 4 ? op.Compute(lastColumn, row + (2 * f) + last) : default;
                    var last3 = TOperator.BlockRows == 4 ? op.Compute(lastColumn, row + (3 * f) + last) : default;
                    MapBlock<T, TOperator>(op, row, f, lead, last);
                    op.Store(first0, firstColumn, row);
                    op.Store(first1, firstColumn, row + f);
                    if (TOperator.BlockRows == 4)
                    {
                        op.Store(first2, firstColumn, row + (2 * f));
                        op.Store(first3, firstColumn, row + (3 * f));
                    }

                    op.Store(last0, lastColumn, row + last);
                    op.Store(last1, lastColumn, row + f + last);
                    if (TOperator.BlockRows == 4)
                    {
                        op.Store(last2, lastColumn, row + (2 * f) + last);
                        op.Store(last3, lastColumn, row + (3 * f) + last);
                    }
                }
                else
                {
                    MapBlock<T, TOperator>(op, row, f, 0, last);
                }
            }
        }

        for (; i < rows; i++)
        {
            MapVectorRow<T, TOperator>(op, (nuint)i * f, f, ref destination);
        }
    }

    // One row of a block: MapRows for rows = 1, for a caller that maps one row per call (the transform's getters, a
    // row at a time). Inlined into that kernel's entry, so the call is the entry's alone: through MapRows (never
    // inlined), the operator was copied to the stack and its references reloaded on every row, and a 64-float row
    // took about 1.3x as long (issue 21, item 2).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MapRow<T, TOperator>(TOperator op, int features, ref T destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IRowMapOperator<T>, allows ref struct
    {
        nuint f = (nuint)features;
        if (!Vector.IsHardwareAccelerated || !Vector<T>.IsSupported || features < Vector<T>.Count)
        {
            for (nuint j = 0; j < f; j++)
            {
                op.InvokeScalar(j, j);
            }

            return;
        }

        MapVectorRow<T, TOperator>(op, 0, f, ref destination);
    }

    // The row at `row` of a block F = f wide, f at least a vector: the first and last vectors (unaligned, computed
    // before any store so the destination may be an input), whole vectors in between, aligned to the destination
    // when the operator asks for it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MapVectorRow<T, TOperator>(TOperator op, nuint row, nuint f, ref T destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IRowMapOperator<T>, allows ref struct
    {
        nuint width = (nuint)Vector<T>.Count, last = f - width;
        nuint lead = TOperator.AlignsStores ? AlignmentLead(ref Unsafe.Add(ref destination, row)) : 0;
        bool ragged = (f - lead) % width != 0;
        var firstColumn = lead != 0 ? op.LoadColumn(0) : default;
        var lastColumn = ragged ? op.LoadColumn(last) : default;
        var first = lead != 0 ? op.Compute(firstColumn, row) : default;
        var final = ragged ? op.Compute(lastColumn, row + last) : default;
        for (nuint j = lead; j <= last; j += width)
        {
            var column = op.LoadColumn(j);
            op.Store(op.Compute(column, row + j), column, row + j);
        }

        if (lead != 0)
        {
            op.Store(first, firstColumn, row);
        }

        if (ragged)
        {
            op.Store(final, lastColumn, row + last);
        }
    }

    // Every element of a span of `length` values: MapRows' walk of a single row (the first and last vectors computed
    // before any store, so the destination may be an input, whole vectors in between with the stores aligned to the
    // destination), through an adapter that gives the row no column parameters.
    private static void MapPlane<T, TOperator>(TOperator op, int length, ref T destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IPlaneMapOperator<T>, allows ref struct =>
        MapRows<T, PlaneAsRow<T, TOperator>>(new PlaneAsRow<T, TOperator>(op), 1, length, ref destination);

    // Columns from .. last (inclusive, whole vectors) of the TOperator.BlockRows rows from row on, one column load for
    // all. The operator comes by value: taken by reference, the JIT reloads its references after every store.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MapBlock<T, TOperator>(TOperator op, nuint row, nuint f, nuint from, nuint last)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IRowMapOperator<T>, allows ref struct
    {
        for (nuint j = from; j <= last; j += (nuint)Vector<T>.Count)
        {
            var column = op.LoadColumn(j);
            nuint k = row + j;
            var v0 = op.Compute(column, k);
            var v1 = op.Compute(column, k + f);
            op.Store(v0, column, k);
            op.Store(v1, column, k + f);
            if (TOperator.BlockRows == 4)
            {
                var v2 = op.Compute(column, k + (2 * f));
                var v3 = op.Compute(column, k + (3 * f));
                op.Store(v2, column, k + (2 * f));
                op.Store(v3, column, k + (3 * f));
            }
        }
    }

    // Rows firstRow .. rows - 1 of a rows x F block into the operator's per-column sums. Rows in order, four at a time:
    // the sums are loaded and stored once per four rows rather than per row, and the data streams through in memory
    // order (measured faster than walking strips of columns down the rows). The columns past the last whole vector,
    // and every column where there are no vectors, are summed in a vector lane's grouping, and 512-bit vectors (where
    // the hardware runs them at full speed) do per lane what the narrower ones do, so the sums do not depend on the
    // machine's vector width.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReduceRows<T, TOperator>(TOperator op, int firstRow, int rows, int features)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IRowReduceOperator<T>, allows ref struct
    {
        nuint f = (nuint)features;
        nuint vectorEnd = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? f - (f % (nuint)Vector<T>.Count) : 0;
        bool wide = TOperator.UsesVector512 && Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && features >= Vector512<T>.Count;
        nuint wideEnd = wide ? f - (f % (nuint)Vector512<T>.Count) : 0;
        int i = firstRow;
        for (; i <= rows - 4; i += 4)
        {
            nuint row = (nuint)i * f;
            op.Prefetch(row, 4 * f);
            nuint j = 0;
            if (wide)
            {
                for (; j < wideEnd; j += (nuint)Vector512<T>.Count)
                {
                    op.AccumulateFour512(row + j, j, f);
                }
            }

            for (; j < vectorEnd; j += (nuint)Vector<T>.Count)
            {
                op.AccumulateFour(row + j, j, f);
            }

            for (; j < f; j++)
            {
                op.AccumulateFourScalar(row + j, j, f);
            }
        }

        for (; i < rows; i++)
        {
            nuint row = (nuint)i * f;
            for (nuint j = 0; j < f; j++)
            {
                op.AccumulateScalar(row + j, j);
            }
        }
    }

    // values[i] updates slot i mod slots, in order of i: the values are walked a chunk of `slots` at a time, each chunk
    // a vector at a time (Single values widened to two Double vectors, so the operators see doubles only) and its slots
    // past the last whole vector (every slot without vector hardware) one at a time. A slot's update reads and writes
    // that slot only, and each slot sees its values in index order, so where the vectors end changes no bit. Never
    // inlined, as the row drivers: inlined into AccumulateMoments, the JIT kept the operator in memory and reloaded its
    // references at every use.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void UpdateSlots<T, TOperator>(TOperator op, ReadOnlySpan<T> values, int slots)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : ISlotOperator, allows ref struct
    {
        for (int start = 0; start < values.Length; start += slots)
        {
            ReadOnlySpan<T> chunk = values.Slice(start, Math.Min(slots, values.Length - start));
            int j = 0;
            if (Vector.IsHardwareAccelerated && typeof(T) == typeof(float))
            {
                ref float xr = ref Unsafe.As<T, float>(ref At(chunk));
                for (; j <= chunk.Length - Vector<float>.Count; j += Vector<float>.Count)
                {
                    Vector.Widen(Vector.LoadUnsafe(ref xr, (nuint)j), out var low, out var high);
                    op.Invoke(low, (nuint)j);
                    op.Invoke(high, (nuint)(j + Vector<double>.Count));
                }
            }
            else if (Vector.IsHardwareAccelerated && typeof(T) == typeof(double))
            {
                ref double xr = ref Unsafe.As<T, double>(ref At(chunk));
                for (; j <= chunk.Length - Vector<double>.Count; j += Vector<double>.Count)
                {
                    op.Invoke(Vector.LoadUnsafe(ref xr, (nuint)j), (nuint)j);
                }
            }

            for (; j < chunk.Length; j++)
            {
                op.Invoke(double.CreateTruncating(chunk[j]), (nuint)j);
            }
        }
    }

    // A plane operator as MapRows calls it: one row, so one row per block, and no column parameters to load.
    private ref struct PlaneAsRow<T, TOperator>(TOperator op) : IRowMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IPlaneMapOperator<T>, allows ref struct
    {
        // Not readonly: the compiler would copy a readonly field of a type parameter before every call on it.
#pragma warning disable IDE0044
        private TOperator _op = op;
#pragma warning restore IDE0044

        public static int BlockRows => 1;

        public static bool AlignsStores => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly ColumnVectors<T> LoadColumn(nuint column) => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Compute(in ColumnVectors<T> column, nuint index) => _op.Compute(index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<T> value, in ColumnVectors<T> column, nuint index) => _op.Store(value, index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void InvokeScalar(nuint index, nuint column) => _op.InvokeScalar(index);
    }

    /// <summary>
    /// How many elements a row starting at <paramref name="destination"/> has before its first address aligned to a
    /// whole vector (<c>Vector&lt;byte&gt;.Count</c> bytes); 0 when it is aligned or not element-aligned.
    /// </summary>
    /// <remarks>
    /// The row kernels write one unaligned vector at the row's start, aligned vectors from here on, and one unaligned
    /// vector at the row's end. A vector store that straddles two cache lines costs about two stores, and with a
    /// destination 16 bytes off a line boundary (what a large array gets) half of them did: measured on the 4096 x
    /// 256 layer benchmark, aligning the stores took the training forward pass from 4.5x to about 2.7x a memory copy.
    /// The address is read without pinning: if the GC moves the buffer meanwhile only the speed changes.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe nuint AlignmentLead<T>(ref T destination)
        where T : unmanaged
    {
        nuint misalignment = (nuint)Unsafe.AsPointer(ref destination) & (nuint)(Vector<byte>.Count - 1);
        return misalignment % (nuint)sizeof(T) == 0 ? (((nuint)Vector<byte>.Count - misalignment) & (nuint)(Vector<byte>.Count - 1)) / (nuint)sizeof(T) : 0;
    }

    // xHat = (x - mean) * inverseStd for the element at index, in column `column`: NormalizeTraining's operations, which
    // XHatReader repeats when it recomputes xHat.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T NormalizedHatScalar<T>(ref T x, ref T mean, ref T inverseStd, nuint index, nuint column)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        (Unsafe.Add(ref x, index) - Unsafe.Add(ref mean, column)) * Unsafe.Add(ref inverseStd, column);

    // (left * right) + addend rounded once, for the element types the kernels use. One overload per vector type (these
    // two, and Vector256<T> in PlaneSums): the BCL has a fused multiply-add only per element type, and no
    // interface over the vector types a generic one could take (ISimdVector is internal in .NET 10).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> FusedMultiplyAdd<T>(Vector512<T> left, Vector512<T> right, Vector512<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            return Vector512.FusedMultiplyAdd(left.AsSingle(), right.AsSingle(), addend.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector512.FusedMultiplyAdd(left.AsDouble(), right.AsDouble(), addend.AsDouble()).As<double, T>();
        }

        throw new NotSupportedException($"No vector fused multiply-add for {typeof(T).Name}.");
    }

    // (left * right) + addend rounded once, for the element types the kernels use.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> FusedMultiplyAdd<T>(Vector<T> left, Vector<T> right, Vector<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            return Vector.FusedMultiplyAdd(left.As<T, float>(), right.As<T, float>(), addend.As<T, float>()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector.FusedMultiplyAdd(left.As<T, double>(), right.As<T, double>(), addend.As<T, double>()).As<double, T>();
        }

        throw new NotSupportedException($"No vector fused multiply-add for {typeof(T).Name}.");
    }

    // The reference to a span's first element (a Span converts implicitly), for the operators' loads and stores.
    private static ref T At<T>(ReadOnlySpan<T> span) => ref MemoryMarshal.GetReference(span);
}
