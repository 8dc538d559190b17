using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>
/// The chunks of <see cref="BatchNormLayer"/>'s passes, one per block of rows (<see cref="RowBlocks"/>): the blocks'
/// sums of a training forward or a backward, each into its own slot (added in block order afterwards), and the
/// element-wise passes (normalize, dx) over the same rows. The layer points it at its spans, pinned for the call, and
/// runs it on one thread or several (<see cref="ChunkRunner"/>); the bits are the same either way.
/// </summary>
internal sealed unsafe class BatchNormRowsJob : IChunkJob
{
    private float[] _slots = [];
    private double[] _momentSlots = [];
    private double[] _shift = [];

    /// <summary>The pass the chunks compute.</summary>
    public enum Pass
    {
        /// <summary>The shifted sums of the training forward (double, shifted by <see cref="Shift"/>).</summary>
        Moments,

        /// <summary>y and x-hat with the batch statistics.</summary>
        NormalizeKeepingXHat,

        /// <summary>y alone with the batch statistics.</summary>
        Normalize,

        /// <summary>y with the running statistics (<see cref="Mean"/> the running mean, <see cref="Scale"/> the test scale).</summary>
        NormalizeTest,

        /// <summary>dGamma and dBeta sums from the kept x-hat.</summary>
        GradientSums,

        /// <summary>dGamma and dBeta sums from x.</summary>
        GradientSumsFromInput,

        /// <summary>dx from the kept x-hat.</summary>
        GradientRows,

        /// <summary>dx from x.</summary>
        GradientRowsFromInput,
    }

    /// <summary>The pass the next <see cref="ChunkRunner.Run"/> computes.</summary>
    public Pass Current { get; set; }

    /// <summary>The blocks of the call's shape.</summary>
    public RowBlocks Blocks { get; private set; }

    /// <summary>Features per row.</summary>
    public int Features { get; private set; }

    /// <summary>Distance between two blocks' slots, in elements: the features rounded up to a cache line of floats, plus
    /// one line, so no two blocks' sums share a line.</summary>
    public int Stride { get; private set; }

    /// <summary>x, or x-hat for <see cref="Pass.GradientSums"/> and <see cref="Pass.GradientRows"/>.</summary>
    public float* Source { get; set; }

    /// <summary>dy for the backward passes.</summary>
    public float* Gradient { get; set; }

    /// <summary>y, x-hat's companion output, or dx.</summary>
    public float* Destination { get; set; }

    /// <summary>The kept x-hat of <see cref="Pass.NormalizeKeepingXHat"/>.</summary>
    public float* XHat { get; set; }

    /// <summary>Per-feature parameters: the mean (batch or running).</summary>
    public float[] Mean { get; set; } = [];

    /// <summary>The inverse standard deviation of the batch, or the test scale.</summary>
    public float[] Scale { get; set; } = [];

    /// <summary>Gamma, or the dx coefficient a.</summary>
    public float[] Gamma { get; set; } = [];

    /// <summary>Beta, or the dx coefficient b.</summary>
    public float[] Beta { get; set; } = [];

    /// <summary>The dx coefficient c.</summary>
    public float[] C { get; set; } = [];

    /// <summary>The first slot array (dGamma sums), <see cref="Blocks"/>.Count x <see cref="Stride"/>.</summary>
    public ReadOnlySpan<float> FirstSlots => _slots.AsSpan(0, Blocks.Count * Stride);

    /// <summary>The second slot array (dBeta sums).</summary>
    public ReadOnlySpan<float> SecondSlots => _slots.AsSpan(Blocks.Count * Stride, Blocks.Count * Stride);

    /// <summary>The moments pass's shift: the batch's row 0, widened; set by <see cref="ShiftByFirstRow"/>.</summary>
    public ReadOnlySpan<double> Shift => _shift.AsSpan(0, Features);

    /// <summary>The moments pass's shifted sums per block, <see cref="Blocks"/>.Count x <see cref="Stride"/>.</summary>
    public ReadOnlySpan<double> MomentSums => _momentSlots.AsSpan(0, Blocks.Count * Stride);

    /// <summary>The moments pass's shifted sums of squares per block.</summary>
    public ReadOnlySpan<double> MomentSumsOfSquares => _momentSlots.AsSpan(Blocks.Count * Stride, Blocks.Count * Stride);

    /// <summary>Sets the shape of the call, growing the slots if it needs more.</summary>
    public void Shape(int rows, int features)
    {
        Blocks = new RowBlocks(rows, features);
        Features = features;
        Stride = ((features + 15) & ~15) + 16;
        int needed = 2 * Blocks.Count * Stride;
        if (_slots.Length < needed)
        {
            _slots = new float[needed];
        }
    }

    /// <summary>Readies the moments pass: grows its double slots if needed and takes the batch's row 0 as the shift.</summary>
    public void ShiftByFirstRow(ReadOnlySpan<float> x)
    {
        int needed = 2 * Blocks.Count * Stride;
        if (_momentSlots.Length < needed)
        {
            _momentSlots = new double[needed];
        }

        if (_shift.Length < Features)
        {
            _shift = new double[Features];
        }

        NormalizationKernels.Widen(x[..Features], _shift.AsSpan(0, Features));
    }

    // The moments pass of one chunk: its rows' shifted sums into the chunk's double slots, a page ahead when beyond the cache.
    private void AddMoments(int chunk, int first, int end, int length)
    {
        var source = new ReadOnlySpan<float>(Source, length);
        var sum = _momentSlots.AsSpan(chunk * Stride, Features);
        var sumOfSquares = _momentSlots.AsSpan((Blocks.Count + chunk) * Stride, Features);
        if (BeyondCache)
        {
            NormalizationKernels.ShiftedBlockSumsPrefetching<float>(source, first, end, Shift, sum, sumOfSquares);
        }
        else
        {
            NormalizationKernels.ShiftedBlockSums<float>(source, first, end, Shift, sum, sumOfSquares);
        }
    }

    /// <inheritdoc/>
    public void Run(int chunk)
    {
        int f = Features;
        int first = Blocks.Start(chunk), end = Blocks.End(chunk);
        int length = Blocks.Rows * f;
        int count = (end - first) * f;
        Span<float> slot1 = _slots.AsSpan(chunk * Stride, f);
        Span<float> slot2 = _slots.AsSpan((Blocks.Count + chunk) * Stride, f);
        switch (Current)
        {
            case Pass.Moments:
                AddMoments(chunk, first, end, length);
                break;
            case Pass.NormalizeKeepingXHat when BeyondCache:
                NormalizationKernels.NormalizeTrainingStreamingXHat<float>(Rows(Source, first, count), end - first, Mean, Scale, Gamma, Beta, Rows(XHat, first, count), Rows(Destination, first, count));
                break;
            case Pass.NormalizeKeepingXHat when StreamsFromMemory:
                NormalizationKernels.NormalizeTrainingInOrder<float>(Rows(Source, first, count), end - first, Mean, Scale, Gamma, Beta, Rows(XHat, first, count), Rows(Destination, first, count));
                break;
            case Pass.NormalizeKeepingXHat:
                NormalizationKernels.NormalizeTraining<float>(Rows(Source, first, count), end - first, Mean, Scale, Gamma, Beta, Rows(XHat, first, count), Rows(Destination, first, count));
                break;
            case Pass.Normalize when StreamsFromMemory:
                NormalizationKernels.NormalizeTrainingInOrder<float>(Rows(Source, first, count), end - first, Mean, Scale, Gamma, Beta, Rows(Destination, first, count));
                break;
            case Pass.Normalize:
                NormalizationKernels.NormalizeTraining<float>(Rows(Source, first, count), end - first, Mean, Scale, Gamma, Beta, Rows(Destination, first, count));
                break;
            case Pass.NormalizeTest when StreamsFromMemory:
                NormalizationKernels.NormalizeInOrder<float>(Rows(Source, first, count), end - first, Mean, Scale, Beta, Rows(Destination, first, count));
                break;
            case Pass.NormalizeTest:
                NormalizationKernels.Normalize<float>(Rows(Source, first, count), end - first, Mean, Scale, Beta, Rows(Destination, first, count));
                break;
            case Pass.GradientSums when BeyondCache:
                NormalizationKernels.GradientBlockSumsPrefetching<float>(new ReadOnlySpan<float>(Gradient, length), new ReadOnlySpan<float>(Source, length), first, end, slot1, slot2);
                break;
            case Pass.GradientSums:
                NormalizationKernels.GradientBlockSums<float>(new ReadOnlySpan<float>(Gradient, length), new ReadOnlySpan<float>(Source, length), first, end, slot1, slot2);
                break;
            case Pass.GradientSumsFromInput when BeyondCache:
                NormalizationKernels.GradientBlockSumsFromInputPrefetching<float>(new ReadOnlySpan<float>(Gradient, length), new ReadOnlySpan<float>(Source, length), first, end, Mean, Scale, slot1, slot2);
                break;
            case Pass.GradientSumsFromInput:
                NormalizationKernels.GradientBlockSumsFromInput<float>(new ReadOnlySpan<float>(Gradient, length), new ReadOnlySpan<float>(Source, length), first, end, Mean, Scale, slot1, slot2);
                break;
            case Pass.GradientRows when StreamsFromMemory:
                NormalizationKernels.GradientRowsInOrder<float>(Rows(Gradient, first, count), Rows(Source, first, count), end - first, Gamma, Beta, C, Rows(Destination, first, count));
                break;
            case Pass.GradientRows:
                NormalizationKernels.GradientRows<float>(Rows(Gradient, first, count), Rows(Source, first, count), end - first, Gamma, Beta, C, Rows(Destination, first, count));
                break;
            case Pass.GradientRowsFromInput when StreamsFromMemory:
                NormalizationKernels.GradientRowsFromInputInOrder<float>(Rows(Gradient, first, count), Rows(Source, first, count), end - first, Mean, Scale, Gamma, Beta, C, Rows(Destination, first, count));
                break;
            case Pass.GradientRowsFromInput:
                NormalizationKernels.GradientRowsFromInput<float>(Rows(Gradient, first, count), Rows(Source, first, count), end - first, Mean, Scale, Gamma, Beta, C, Rows(Destination, first, count));
                break;
        }
    }

    // Whether the call is at least the layer's parallel threshold: arrays that large stream from memory, where the
    // element-wise passes (normalize, dx) walk each block in address order (the same operations as the row walk, so the same bits);
    // smaller ones stay in the cache, where the row walk's shared parameter loads pay (docs/benchmarks.md).
    private bool StreamsFromMemory => (long)Blocks.Rows * Features >= BatchNormLayer.ParallelThreshold;

    // Whether the call's arrays are beyond any cache (BatchNormLayer.BeyondCacheThreshold): x-hat written past the
    // caches, the sums prefetched a page ahead.
    private bool BeyondCache => (long)Blocks.Rows * Features >= BatchNormLayer.BeyondCacheThreshold;

    private Span<float> Rows(float* start, int firstRow, int count) => new(start + ((nint)firstRow * Features), count);
}
