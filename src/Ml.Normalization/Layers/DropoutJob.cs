using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>
/// The chunks of <see cref="DropoutLayer"/>'s passes: runs of <see cref="ChunkLength"/> elements, each dropped with the
/// mask of its own indices (an element's mask depends on its index and the key alone, <see cref="DropoutMask"/>), so
/// the chunks and the threads that run them change no bit. The layer points it at its spans, pinned for the call.
/// </summary>
internal sealed unsafe class DropoutJob : IChunkJob
{
    /// <summary>Elements per chunk (a multiple of every vector width).</summary>
    public const int ChunkLength = 65536;

    /// <summary>The input (x or dy).</summary>
    public float* Source { get; set; }

    /// <summary>The output (y or dx).</summary>
    public float* Destination { get; set; }

    /// <summary>Elements in all.</summary>
    public int Length { get; set; }

    /// <summary>The mask's key.</summary>
    public ulong Key { get; set; }

    /// <summary>The mask's threshold (<see cref="DropoutMask.KeepThreshold"/>).</summary>
    public uint KeepThreshold { get; set; }

    /// <summary>1 / (1 - p).</summary>
    public float Scale { get; set; }

    /// <summary>Number of chunks of <see cref="Length"/> elements.</summary>
    public int Chunks => (int)(((long)Length + ChunkLength - 1) / ChunkLength);

    /// <inheritdoc/>
    public void Run(int chunk)
    {
        int start = chunk * ChunkLength;
        int count = Math.Min(ChunkLength, Length - start);
        NormalizationKernels.Dropout(new ReadOnlySpan<float>(Source + start, count), new Span<float>(Destination + start, count), Key, KeepThreshold, Scale, (uint)start);
    }
}
