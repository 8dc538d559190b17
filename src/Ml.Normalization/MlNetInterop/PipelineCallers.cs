using System.Diagnostics;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// Which part of ML.NET's pipeline machinery is calling, for the two pipeline shapes in which a stage's training pass
/// would otherwise not reach the stages after it, or not vary between epochs. Read from the call stack: ML.NET passes
/// nothing that says it.
/// </summary>
/// <remarks>
/// <para><c>EstimatorChain.Fit</c> trains each stage on the training passes of the stages before it, but a chain that
/// was appended to as a whole (<c>x.Append(bn.Append(dropout)).Append(trainer)</c>) is fitted into a
/// <c>TransformerChain</c>, which the outer chain then applies with <c>Transform</c>, the scoring path: its Dropout
/// would score (not drop) for the trainer. A stage whose <c>Transform</c> is called while an
/// <c>EstimatorChain.Fit</c> runs is therefore feeding the stages being trained: it gives its training pass then, as
/// the same chain does for a stage appended directly.</para>
/// <para><c>AppendCacheCheckpoint</c> after Dropout caches the first pass's masks, which every later epoch then reads:
/// ML.NET's cache (the internal <c>CacheDataView</c>) fills itself from one cursor of the view before it. The
/// training view warns when a cursor is requested by that cache.</para>
/// The walk costs a few microseconds per call, and runs once per Transform or cursor request, never per row.
/// </remarks>
internal static class PipelineCallers
{
    private static readonly Type CacheType = typeof(CacheDataView);

    /// <summary>Whether an <c>EstimatorChain&lt;T&gt;.Fit</c> is on the calling thread's stack.</summary>
    public static bool InsideEstimatorChainFit() =>
        AnyCaller(static method => method.Name == nameof(EstimatorChain<ITransformer>.Fit)
            && method.DeclaringType is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(EstimatorChain<>));

    /// <summary>Whether ML.NET's data cache is asking for the cursor (its filler reads the view once, for every epoch).</summary>
    public static bool FillingCache() => AnyCaller(static method => method.DeclaringType is { } type && (type == CacheType || type.DeclaringType == CacheType));

    private static bool AnyCaller(Func<MethodBase, bool> match)
    {
        foreach (var frame in new StackTrace(skipFrames: 2, fNeedFileInfo: false).GetFrames())
        {
            if (frame.GetMethod() is { } method && match(method))
            {
                return true;
            }
        }

        return false;
    }
}
