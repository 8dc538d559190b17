using System.Runtime.ExceptionServices;

namespace Ml.Normalization.Layers;

/// <summary>One piece of a layer's call that <see cref="ChunkRunner"/> hands to a thread.</summary>
internal interface IChunkJob
{
    /// <summary>Computes chunk <paramref name="chunk"/>; chunks write disjoint memory, so they may run in any order at once.</summary>
    void Run(int chunk);
}

/// <summary>
/// Runs the chunks of a layer's call on the calling thread and up to <c>threads - 1</c> thread-pool threads, which take
/// the next chunk as they free up. Allocation-free after construction (it is itself the work item it queues), and it
/// never waits for a helper that has not started: the caller claims the chunks no helper took, and a helper that starts
/// after the call finds nothing to do. What a chunk computes must not depend on which thread runs it; the layers'
/// chunks are fixed by the shape (<see cref="Kernels.RowBlocks"/>), so the thread count changes no bit.
/// </summary>
internal sealed class ChunkRunner : IThreadPoolWorkItem
{
    // Helpers that may still start (low 16 bits) and helpers running (high bits), changed together atomically so that
    // the caller never leaves while a helper that claimed a start is still about to read the call's state.
    private const int RunningUnit = 1 << 16;
    private const int UnstartedMask = RunningUnit - 1;

    private IChunkJob? _job;
    private int _chunks;
    private int _next;
    private int _state;
    private ExceptionDispatchInfo? _error;

    /// <summary>Runs chunks 0 .. <paramref name="chunks"/> - 1 of <paramref name="job"/> on up to <paramref name="threads"/> threads, the caller's included.</summary>
    public void Run(IChunkJob job, int chunks, int threads)
    {
        int helpers = Math.Min(Math.Min(threads, chunks) - 1, UnstartedMask);
        if (helpers <= 0)
        {
            for (int k = 0; k < chunks; k++)
            {
                job.Run(k);
            }

            return;
        }

        _job = job;
        _chunks = chunks;
        _error = null;
        Volatile.Write(ref _next, 0);
        Interlocked.Exchange(ref _state, helpers);
        for (int h = 0; h < helpers; h++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        Work();

        // Cancel the helpers that have not started, then wait for the running ones to finish their last chunk.
        int state = Volatile.Read(ref _state);
        while (true)
        {
            int seen = Interlocked.CompareExchange(ref _state, state & ~UnstartedMask, state);
            if (seen == state)
            {
                break;
            }

            state = seen;
        }

        var spinner = default(SpinWait);
        while (Volatile.Read(ref _state) != 0)
        {
            spinner.SpinOnce(sleep1Threshold: -1); // never Sleep(1): the wait is at most one chunk's time
        }

        _job = null;
        _error?.Throw();
    }

    /// <inheritdoc/>
    void IThreadPoolWorkItem.Execute()
    {
        // Claim a start: a helper queued for a call that has ended (or whose start the caller cancelled) finds none.
        int state = Volatile.Read(ref _state);
        while (true)
        {
            if ((state & UnstartedMask) == 0)
            {
                return;
            }

            int seen = Interlocked.CompareExchange(ref _state, state - 1 + RunningUnit, state);
            if (seen == state)
            {
                break;
            }

            state = seen;
        }

        Work();
        Interlocked.Add(ref _state, -RunningUnit);
    }

    private void Work()
    {
        try
        {
            int k;
            while ((k = Interlocked.Increment(ref _next) - 1) < _chunks)
            {
                _job!.Run(k);
            }
        }
        catch (Exception e)
        {
            _error ??= ExceptionDispatchInfo.Capture(e);
            Volatile.Write(ref _next, _chunks);
        }
    }
}
