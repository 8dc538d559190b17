using Microsoft.ML;
using Ml.Normalization;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms;
using Ml.Normalization.Transforms.Mapping;

[assembly: LoadableStage<BatchNormalizingTransformer>("Batch Normalization")]

namespace Ml.Normalization;

/// <summary>
/// The fitted batch normalization: <c>y = gamma * (x - running_mean) / sqrt(running_var + epsilon) + beta</c> per slot,
/// applied lazily, row to row. Saves and loads with <c>mlContext.Model.Save</c>/<c>Load</c> like an in-box stage.
/// </summary>
/// <remarks>
/// The parameters are double (<see cref="BatchNormalizationParameters"/>). A Double column is normalized in double
/// with them; a Single column in float, with the mean, scale and beta each rounded once from double. Models saved by
/// earlier versions, whose parameters were float, load and give the same outputs, bit for bit.
/// </remarks>
public sealed class BatchNormalizingTransformer : ColumnPairTransformer, IPersistedStage<BatchNormalizingTransformer>
{
    internal const string LoaderSignature = "MlNormBatchNormalize";

    // Format history: 0x00010001 initial (column count; per column: names, slot count, epsilon, batch and row
    // counts, running mean, running variance, gamma, beta; float each).
    // 0x00010002 adds, after the columns, the training-pass batch size (0: the training pass uses running statistics).
    // 0x00010003 writes epsilon, running mean, running variance, gamma and beta as double. Older models' floats are
    // widened exactly on load, so they normalize as before, bit for bit.
    // 0x00010004 adds, after the training-pass batch size, each column's ChannelLayout (int32); with channels the
    // column's "slot count" and value lists count channels. Older models are per slot.
    // 0x00010005 appends, per column, its fit state (int 0: none; 1: kind int, momentum double (NaN: none),
    // bias-correction and unbiased-variance ints, then per unit: shift, mean, second moment, count, initial mean and
    // initial variance, double each), so a loaded model can continue its fit and merge with other shards'.
    // 0x00010006 appends, after the fit states, one byte per column: 1 centered, 0 scale only. Older models are centered.
    private const uint FormatInitial = 0x00010001;
    private const uint FormatTrainingBatchSize = 0x00010002;
    private const uint FormatDoubleParameters = 0x00010003;
    private const uint FormatChannels = 0x00010004;
    private const uint FormatFitState = 0x00010005;
    private const uint FormatScaleOnly = 0x00010006;

    private readonly BatchNormalizationParameters[] _columns;

    internal BatchNormalizingTransformer(BatchNormalizationParameters[] columns, int trainingBatchSize = 0)
        : base(columns.Select(c => new InputOutputColumnPair(c.OutputColumnName, c.InputColumnName)))
    {
        _columns = columns;
        Columns = Array.AsReadOnly(columns);
        TrainingBatchSize = trainingBatchSize;
    }

    /// <summary>The parameters of each column pair, in order.</summary>
    public IReadOnlyList<BatchNormalizationParameters> Columns { get; }

    /// <summary>
    /// Rows per mini-batch of the training pass when it uses batch statistics
    /// (<see cref="BatchNormalizingEstimator.Options.BatchStatisticsInTraining"/>); 0 when it uses the running statistics.
    /// </summary>
    public int TrainingBatchSize { get; }

    static StageFormat IPersistedStage<BatchNormalizingTransformer>.Format { get; } =
        new("MLNBNORM", FormatScaleOnly, FormatScaleOnly, FormatInitial, LoaderSignature, "BatchNormalize");

    internal override ColumnMapper CreateMapper(DataViewSchema inputSchema) => BatchNormalizeMapping.CreateMapper(inputSchema, _columns);

    internal override void ExportOnnx(OnnxGraph graph, DataViewSchema inputSchema) => OnnxExport.BatchNormalize(graph, inputSchema, _columns);

    /// <summary>
    /// With <see cref="TrainingBatchSize"/> set, the training pass normalizes each mini-batch with its own statistics;
    /// otherwise it is the same as <see cref="ColumnPairTransformer.Transform"/>.
    /// </summary>
    internal override IDataView? TrainingView(IDataView input) =>
        TrainingBatchSize >= 2 ? new BatchStatisticsTrainingView(input, _columns, TrainingBatchSize) : null;

    internal override void Save(ModelSaveContext ctx) => ModelPersistence.Save(ctx, this);

    static BatchNormalizingTransformer IPersistedStage<BatchNormalizingTransformer>.Read(ModelBodyReader reader, uint formatVersion)
    {
        int count = reader.ReadCount("the column count", 1, 1 << 16);
        var columns = new BatchNormalizationParameters[count];
        var values = new (string Output, string Input, double[] Mean, double[] Variance, double[] Gamma, double[] Beta, double Epsilon, long Batches, long Rows)[count];
        for (int i = 0; i < count; i++)
        {
            string output = reader.ReadString("an output column name");
            string input = reader.ReadString("an input column name");
            int slots = reader.ReadCount("a slot count", 1, int.MaxValue / 4);
            bool doubles = formatVersion >= FormatDoubleParameters;
            double epsilon = doubles ? reader.ReadDouble() : reader.ReadSingle();
            long batches = reader.ReadInt64();
            long rows = reader.ReadInt64();
            var mean = ReadValues(reader, doubles, slots, "running mean");
            var variance = ReadValues(reader, doubles, slots, "running variance");
            var gamma = ReadValues(reader, doubles, slots, "gamma");
            var beta = ReadValues(reader, doubles, slots, "beta");
            values[i] = (output, input, mean, variance, gamma, beta, epsilon, batches, rows);
        }

        int trainingBatchSize = formatVersion >= FormatTrainingBatchSize ? reader.ReadCount("the training batch size", 0, int.MaxValue) : 0;
        var layouts = new ChannelLayout[count];
        for (int i = 0; i < count; i++)
        {
            layouts[i] = formatVersion >= FormatChannels ? (ChannelLayout)reader.ReadCount("a channel layout", 0, (int)ChannelLayout.ChannelsLast) : ChannelLayout.None;
        }

        var states = new FitState?[count];
        for (int i = 0; i < count; i++)
        {
            states[i] = formatVersion >= FormatFitState ? ReadFitState(reader, values[i].Mean.Length) : null;
        }

        var centered = new bool[count];
        for (int i = 0; i < count; i++)
        {
            byte flag = formatVersion >= FormatScaleOnly ? reader.ReadByte() : (byte)1;
            centered[i] = flag <= 1 ? flag == 1 : throw reader.Corrupt($"the centering flag of column {i} is {flag}, expected 0 or 1");
        }

        for (int i = 0; i < count; i++)
        {
            var v = values[i];
            try
            {
                columns[i] = new BatchNormalizationParameters(v.Output, v.Input, v.Mean, v.Variance, v.Gamma, v.Beta, v.Epsilon, v.Batches, v.Rows, layouts[i], states[i], centered[i]);
            }
            catch (ArgumentException ex)
            {
                throw reader.Corrupt($"column '{v.Output}': {ex.Message}");
            }
        }

        return new BatchNormalizingTransformer(columns, trainingBatchSize);
    }

    private static FitState? ReadFitState(ModelBodyReader reader, int units)
    {
        if (reader.ReadCount("a fit-state flag", 0, 1) == 0)
        {
            return null;
        }

        var kind = (StatisticsKind)reader.ReadCount("a statistics kind", 0, (int)StatisticsKind.WholeData);
        double momentum = reader.ReadDouble();
        bool biasCorrection = reader.ReadCount("a bias-correction flag", 0, 1) == 1;
        bool unbiased = reader.ReadCount("an unbiased-variance flag", 0, 1) == 1;
        if (!double.IsNaN(momentum) && !(momentum >= 0 && momentum < 1))
        {
            throw reader.Corrupt($"a momentum is {momentum}, expected NaN or [0, 1)");
        }

        return new FitState(kind, double.IsNaN(momentum) ? null : momentum, biasCorrection, unbiased,
            reader.ReadDoubles(units, "fit-state shifts"), reader.ReadDoubles(units, "fit-state means"), reader.ReadDoubles(units, "fit-state second moments"),
            reader.ReadDoubles(units, "fit-state counts"), reader.ReadDoubles(units, "fit-state initial means"), reader.ReadDoubles(units, "fit-state initial variances"));
    }

    private static double[] ReadValues(ModelBodyReader reader, bool doubles, int slots, string what) =>
        doubles ? reader.ReadDoubles(slots, what) : Array.ConvertAll(reader.ReadSingles(slots, what), v => (double)v);

    void IPersistedStage<BatchNormalizingTransformer>.WriteBody(BinaryWriter writer)
    {
        writer.Write(_columns.Length);
        foreach (var column in _columns)
        {
            writer.Write(column.OutputColumnName);
            writer.Write(column.InputColumnName);
            writer.Write(column.UnitCount);
            writer.Write(column.Epsilon);
            writer.Write(column.BatchCount);
            writer.Write(column.RowCount);
            foreach (var values in new[] { column.RunningMean, column.RunningVariance, column.Gamma, column.Beta })
            {
                foreach (var v in values)
                {
                    writer.Write(v);
                }
            }
        }

        writer.Write(TrainingBatchSize);
        foreach (var column in _columns)
        {
            writer.Write((int)column.ChannelLayout);
        }

        foreach (var column in _columns)
        {
            if (column.FitState is not { } state)
            {
                writer.Write(0);
                continue;
            }

            writer.Write(1);
            writer.Write((int)state.Kind);
            writer.Write(state.Momentum ?? double.NaN);
            writer.Write(state.BiasCorrection ? 1 : 0);
            writer.Write(state.UnbiasedVariance ? 1 : 0);
            foreach (var values in new[] { state.Shift, state.Mean, state.Second, state.Count, state.InitialMean, state.InitialVariance })
            {
                foreach (var value in values)
                {
                    writer.Write(value);
                }
            }
        }

        foreach (var column in _columns)
        {
            writer.Write(column.Centered ? (byte)1 : (byte)0);
        }
    }

    /// <summary>
    /// Merges the fits of disjoint shards of one dataset into the fit of their concatenation: each worker fits its shard
    /// with the same estimator and saves the model; one process loads them and merges.
    /// </summary>
    /// <remarks>
    /// With <see cref="BatchNormalizingEstimator.Options.WholeDataStatistics"/> the result is the statistics of all rows,
    /// combined with Chan et al.'s formulas (equal to the one-pass fit up to the last few bits of double rounding). With
    /// <c>Momentum = null</c> (the plain average of the batches) it is the average over all shards' batches, weighted by
    /// each shard's batch count: the fit of the concatenation when every shard's row count is a multiple of the batch
    /// size (otherwise a shard's final partial batch counts as a whole one), again up to double rounding. With a momentum
    /// the order of the batches matters, so momentum fits do not merge. The parameters besides the statistics (gamma,
    /// beta, epsilon, the training pass) are the first shard's, and every shard's must equal them.
    /// </remarks>
    /// <param name="shards">At least one fitted transformer, all from the same estimator options and columns.</param>
    /// <returns>A transformer that scores, saves, loads, continues and exports like a fitted one.</returns>
    /// <exception cref="ArgumentException">No shards; a shard without a fit state (given parameters, or a model saved
    /// before version 1.1); fits with a momentum; or shards whose columns, sizes or options differ (the message says which).</exception>
    public static BatchNormalizingTransformer Merge(params BatchNormalizingTransformer[] shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Length == 0 || Array.Exists(shards, s => s is null))
        {
            throw new ArgumentException("At least one shard is needed, and none may be null.", nameof(shards));
        }

        SeamCheck.EnsureCompatible();
        var first = shards[0];
        var columns = new BatchNormalizationParameters[first._columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            columns[i] = FitMerge.Column(shards.Select(s => i < s._columns.Length ? s._columns[i] : null).ToArray(), i, shards.Select(s => s._columns.Length).ToArray());
        }

        foreach (var shard in shards)
        {
            if (shard.TrainingBatchSize != first.TrainingBatchSize)
            {
                throw new ArgumentException($"The shards' training-pass batch sizes differ ({first.TrainingBatchSize} and {shard.TrainingBatchSize}).", nameof(shards));
            }
        }

        return new BatchNormalizingTransformer(columns, first.TrainingBatchSize);
    }

}
