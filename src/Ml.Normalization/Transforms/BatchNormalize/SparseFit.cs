using Microsoft.ML;
using Microsoft.ML.Runtime;
using Ml.Normalization.Fitting;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>The end of a fit's pass for sparse columns: the lazy folds completed, and the dense-output warning.</summary>
internal static class SparseFit
{
    /// <summary>Above this many slots, centering a sparse column is worth a warning: its output rows will be dense.</summary>
    public const int DenseOutputWarningSlots = 10_000;

    public static void Complete(IHost host, string channelName, ColumnFitter[] fitters, ColumnStatistics[] statistics, InputOutputColumnPair[] columns,
        NumericColumnShape[] shapes, BatchNormalizingEstimator.Options options)
    {
        for (int i = 0; i < fitters.Length; i++)
        {
            fitters[i].Complete(statistics[i]);
            if (options.Center && fitters[i].SawSparseRows && shapes[i].Size > DenseOutputWarningSlots)
            {
                MlNetEnvironment.Warning(host, channelName, $"BatchNormalize: input column '{columns[i].InputColumnName}' is sparse with {shapes[i].Size} slots; centering "
                    + $"writes every output row dense. Set {nameof(BatchNormalizingEstimator.Options)}.{nameof(BatchNormalizingEstimator.Options.Center)} = false "
                    + "to scale without centering and keep the rows sparse.");
            }
        }
    }
}
