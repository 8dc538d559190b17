using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>
/// Batch normalization over the feature axis of a row-major (rows x <see cref="Features"/>) block, as in the
/// seed article: training mode normalizes with the batch's mean and biased variance and updates the running
/// statistics; test mode normalizes with the running statistics.
/// </summary>
/// <remarks>
/// <para>Forward: <c>x_hat = (x - mean) / sqrt(var + Epsilon)</c>, <c>y = Gamma * x_hat + Beta</c>.</para>
/// <para>Running statistics: <c>running = Momentum * running + (1 - Momentum) * batch</c>, both starting at 0
/// (the reference's convention; PyTorch starts the variance at 1, see the ML.NET stage's options).</para>
/// <para>The batch mean and variance are one pass of double sums of <c>(double)x - x[0]</c> per feature, rounded to float
/// once. Shifting by a value of the data bounds the cancellation by the row count n whatever the data (an outlier
/// first row included), so the variance's relative error is at most about n^2 2^-53 (4.8e-7 at 65,536 rows) plus float
/// rounding; tested within 1e-6 of a two-pass double reference (docs/layers.md, batch statistics precision).</para>
/// <para>Backward gives dx, dGamma and dBeta of the last training forward pass. By default the layer keeps that
/// pass's normalized input (rows x Features floats) for <see cref="Backward(ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/>;
/// buffers are reused while the batch size does not grow, so training is allocation-free after the first batch.
/// A caller that keeps its input anyway (as frameworks keep activations) can set <see cref="KeepNormalizedInput"/>
/// to false and pass x back to <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/>,
/// as cuDNN's backward takes x: the training forward pass then writes only y, which saves that memory and a quarter
/// to a third of the pass's time (Backward, recomputing x-hat, takes about as much longer), and the gradients are the
/// same bit for bit. Not thread-safe.</para>
/// </remarks>
public sealed unsafe class BatchNormLayer : BatchNormLayerBase
{
    /// <summary>Calls over fewer values than this stay on the calling thread: handing work to a second thread costs
    /// microseconds, more than it saves below about this size (measured, docs/layers.md).</summary>
    internal const int ParallelThreshold = 1 << 19;

    /// <summary>Calls over at least this many values (16 MB of floats per array) stream from memory past any cache: a
    /// training forward then writes its kept x-hat with non-temporal stores, and the passes that only read (the batch
    /// sums, the gradient sums) prefetch a page ahead. A training forward this large writes 32 MB (y and x-hat), more
    /// than three quarters of a 32 MB last-level cache (the bound above which glibc's memcpy streams its stores too):
    /// ordinary stores would first read each x-hat line from memory and then evict x and y to hold it, and x-hat's first
    /// blocks are evicted again before a Backward reads them. Below it the arrays may stay cached: x-hat keeps ordinary
    /// stores for a Backward that follows soon (streaming measured 1.2-1.3x slower at 2 and 4 MB arrays), and the
    /// prefetch hints would only cost instructions (the backward given x measured about 1.1x slower with them at
    /// 4096 x 256). Same values either way (docs/benchmarks.md).</summary>
    internal const int BeyondCacheThreshold = 1 << 22;

    private readonly BatchNormRowsJob _job = new();
    private readonly float[] _a;
    private readonly float[] _b;
    private readonly float[] _c;
    private ChunkRunner? _runner;
    private int _maxDegreeOfParallelism = Environment.ProcessorCount;

    /// <summary>Creates a layer for rows of <paramref name="features"/> values, with Gamma 1, Beta 0 and zero running statistics.</summary>
    /// <param name="features">Number of features (columns), at least 1.</param>
    /// <param name="momentum">Weight of the old running value, in [0, 1).</param>
    /// <param name="epsilon">Added to the variance before the square root; positive and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range (NaN included).</exception>
    public BatchNormLayer(int features, float momentum = 0.9f, float epsilon = 1e-5f)
        : base(features, nameof(features), momentum, epsilon)
    {
        _a = new float[features];
        _b = new float[features];
        _c = new float[features];
    }

    /// <summary>
    /// The most threads a call uses, the calling thread included; default <see cref="Environment.ProcessorCount"/>,
    /// as PyTorch uses all cores. Calls over fewer than 524288 values (rows x Features) stay on the calling thread
    /// whatever it is. The results are the same bit for bit at every value: the sums are taken over fixed blocks of rows
    /// that depend on the shape alone and added in block order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        set => _maxDegreeOfParallelism = ThrowHelper.ThreadCount(value);
    }

    /// <summary>Number of features per row.</summary>
    public int Features => Gamma.Length;

    /// <summary>
    /// Whether a training <see cref="Forward"/> keeps the normalized input (rows x <see cref="Features"/> floats) so
    /// that <see cref="Backward(ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/> needs only dy.
    /// Default true. False: Forward writes only y, and Backward takes the input again
    /// (<see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/>).
    /// </summary>
    public bool KeepNormalizedInput { get; init; } = true;

    /// <summary>Normalizes <paramref name="rows"/> rows of <paramref name="x"/> into <paramref name="y"/>.</summary>
    /// <param name="x">Input, row-major, rows x <see cref="Features"/>.</param>
    /// <param name="y">Output, same shape; may be the same memory as <paramref name="x"/>.</param>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="training">True: batch statistics, update the running statistics and keep what Backward needs.
    /// False: running statistics.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is less than 1, or rows x Features is beyond Int32.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> or <paramref name="y"/> is not rows x Features long.</exception>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, bool training)
    {
        if (rows < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(rows), rows, "at least 1");
        }

        int length = ThrowHelper.BlockLength(rows, Features);
        CheckInputAndOutput(length, x, y);
        int threads = ThreadsFor(length);
        if (!training && threads == 1)
        {
            // A call as large as the parallel threshold streams its arrays from memory, where the walk in address order
            // is the faster one; a smaller block stays in the cache, where the row walk shares each parameter load.
            if (length >= ParallelThreshold)
            {
                NormalizationKernels.NormalizeInOrder(x, rows, RunningMean, TestScale(), Beta, y);
            }
            else
            {
                NormalizationKernels.Normalize(x, rows, RunningMean, TestScale(), Beta, y);
            }

            return;
        }

        if (training && new RowBlocks(rows, Features).Count == 1)
        {
            // One block (small batches): the unblocked kernels on the calling thread, the same bits without the
            // chunks' bookkeeping.
            NormalizationKernels.BatchMoments(x, rows, BatchMean, BatchVariance);
            InverseStdOfBatch();
            if (KeepNormalizedInput)
            {
                NormalizationKernels.NormalizeTraining(x, rows, BatchMean, InverseStd, Gamma, Beta, XHatCache.PlacedFor(x, y), y);
            }
            else
            {
                NormalizationKernels.NormalizeTraining<float>(x, rows, BatchMean, InverseStd, Gamma, Beta, y);
            }

            CompleteTrainingPass(length);
            return;
        }

        ForwardInBlocks(x, y, rows, training, threads);
        if (training)
        {
            CompleteTrainingPass(length);
        }
    }

    // Forward over the row blocks (RowBlocks) on `threads` threads, out of Forward's way so that the small calls' path
    // stays a lean method.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ForwardInBlocks(ReadOnlySpan<float> x, Span<float> y, int rows, bool training, int threads)
    {
        _job.Shape(rows, Features);
        fixed (float* source = x, destination = y)
        {
            _job.Source = source;
            _job.Destination = destination;
            if (!training)
            {
                _job.Mean = RunningMean;
                _job.Scale = TestScale();
                _job.Beta = Beta;
                RunPass(BatchNormRowsJob.Pass.NormalizeTest, threads);
                return;
            }

            _job.ShiftByFirstRow(x);
            RunPass(BatchNormRowsJob.Pass.Moments, threads);
            NormalizationKernels.FinishBlockMoments(_job.Shift, rows, _job.MomentSums, _job.MomentSumsOfSquares, _job.Blocks.Count, _job.Stride, BatchMean, BatchVariance);
            InverseStdOfBatch();
            _job.Mean = BatchMean;
            _job.Scale = InverseStd;
            _job.Gamma = Gamma;
            _job.Beta = Beta;
            if (KeepNormalizedInput)
            {
                // The cache is pinned (XHatCache), so its address holds for the call.
                Span<float> xHat = XHatCache.PlacedFor(x, y);
                fixed (float* kept = xHat)
                {
                    _job.XHat = kept;
                    RunPass(BatchNormRowsJob.Pass.NormalizeKeepingXHat, threads);
                }
            }
            else
            {
                RunPass(BatchNormRowsJob.Pass.Normalize, threads);
            }
        }
    }

    /// <summary>Gradients of the last training-mode <see cref="Forward"/> with respect to its input, Gamma and Beta.</summary>
    /// <param name="dy">Upstream gradient, rows x Features of that pass.</param>
    /// <param name="dx">Receives the gradient with respect to x, same shape; may be the same memory as <paramref name="dy"/>.</param>
    /// <param name="dGamma">Receives the gradient with respect to Gamma, length Features.</param>
    /// <param name="dBeta">Receives the gradient with respect to Beta, length Features.</param>
    /// <exception cref="InvalidOperationException">No training forward pass since construction (test-mode passes in between do not count),
    /// or <see cref="KeepNormalizedInput"/> is false (then pass x to the other overload).</exception>
    /// <exception cref="ArgumentException">A span's length does not fit that pass.</exception>
    public void Backward(ReadOnlySpan<float> dy, Span<float> dx, Span<float> dGamma, Span<float> dBeta)
    {
        int length = CheckBackward(dy, dx);
        if (!KeepNormalizedInput)
        {
            throw new InvalidOperationException(
                "This layer does not keep the normalized input (KeepNormalizedInput is false): call Backward(x, dy, dx, dGamma, dBeta) with the input of the last training Forward.");
        }

        ReadOnlySpan<float> xHat = XHatCache.Last(length);
        if (new RowBlocks(length / Features, Features).Count == 1)
        {
            NormalizationKernels.BatchNormBackward<float>(dy, xHat, length / Features, Gamma, InverseStd, dx, dGamma, dBeta);
            return;
        }

        ThrowHelper.ThrowIfLengthDiffers(Features, dGamma.Length, nameof(dGamma));
        ThrowHelper.ThrowIfLengthDiffers(Features, dBeta.Length, nameof(dBeta));
        RunBackward(xHat, dy, dx, dGamma, dBeta, BatchNormRowsJob.Pass.GradientSums, BatchNormRowsJob.Pass.GradientRows);
    }

    /// <summary>
    /// Gradients of the last training-mode <see cref="Forward"/>, given its input again: the normalized input is
    /// recomputed from <paramref name="x"/> with that pass's batch mean and variance, so the result equals the other
    /// overload's bit for bit. Works whether or not <see cref="KeepNormalizedInput"/> is set.
    /// </summary>
    /// <param name="x">The input of that pass, unchanged since (a different x gives the gradients at that x, not detected).</param>
    /// <param name="dy">Upstream gradient, rows x Features of that pass.</param>
    /// <param name="dx">Receives the gradient with respect to x, same shape; may be the same memory as <paramref name="dy"/>.</param>
    /// <param name="dGamma">Receives the gradient with respect to Gamma, length Features.</param>
    /// <param name="dBeta">Receives the gradient with respect to Beta, length Features.</param>
    /// <exception cref="InvalidOperationException">No training forward pass since construction.</exception>
    /// <exception cref="ArgumentException">A span's length does not fit that pass.</exception>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dGamma, Span<float> dBeta)
    {
        int length = CheckBackward(dy, dx);
        ThrowHelper.ThrowIfLengthDiffers(length, x.Length, nameof(x));
        if (new RowBlocks(length / Features, Features).Count == 1)
        {
            NormalizationKernels.BatchNormBackwardFromInput<float>(dy, x, length / Features, BatchMean, Gamma, InverseStd, dx, dGamma, dBeta);
            return;
        }

        ThrowHelper.ThrowIfLengthDiffers(Features, dGamma.Length, nameof(dGamma));
        ThrowHelper.ThrowIfLengthDiffers(Features, dBeta.Length, nameof(dBeta));
        _job.Mean = BatchMean;
        _job.Scale = InverseStd;
        RunBackward(x, dy, dx, dGamma, dBeta, BatchNormRowsJob.Pass.GradientSumsFromInput, BatchNormRowsJob.Pass.GradientRowsFromInput);
    }

    // The backward passes from a pinned source (x-hat or x): the blocks' sums, their total and the dx coefficients,
    // then dx.
    // Pinned for the call (the x-hat cache is pinned anyway).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RunBackward(ReadOnlySpan<float> from, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dGamma, Span<float> dBeta, BatchNormRowsJob.Pass sums, BatchNormRowsJob.Pass rows)
    {
        int length = dy.Length;
        int threads = ThreadsFor(length);
        _job.Shape(length / Features, Features);
        fixed (float* source = from, gradient = dy, destination = dx)
        {
            _job.Source = source;
            _job.Gradient = gradient;
            _job.Destination = destination;
            RunPass(sums, threads);
            NormalizationKernels.FinishGradientSums<float>(_job.FirstSlots, _job.SecondSlots, _job.Blocks.Count, _job.Stride, length / Features, Gamma, InverseStd, dGamma, dBeta, _a, _b, _c);
            _job.Gamma = _a;
            _job.Beta = _b;
            _job.C = _c;
            RunPass(rows, threads);
        }
    }

    // InverseStd = 1 / sqrt(BatchVariance + Epsilon).
    private void InverseStdOfBatch()
    {
        TensorPrimitives.Add(BatchVariance, Epsilon, InverseStd);
        TensorPrimitives.ReciprocalSqrt(InverseStd, InverseStd);
    }

    // How many threads a call over `length` values takes: one below the threshold, else up to MaxDegreeOfParallelism.
    private int ThreadsFor(int length) => length >= ParallelThreshold ? MaxDegreeOfParallelism : 1;

    private void RunPass(BatchNormRowsJob.Pass pass, int threads)
    {
        _job.Current = pass;
        if (threads == 1)
        {
            for (int k = 0; k < _job.Blocks.Count; k++)
            {
                _job.Run(k);
            }

            return;
        }

        (_runner ??= new ChunkRunner()).Run(_job, _job.Blocks.Count, threads);
    }
}
