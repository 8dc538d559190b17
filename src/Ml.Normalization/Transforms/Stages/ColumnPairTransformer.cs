using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Persistence;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization;

/// <summary>
/// The shape every stage of this library shares: a transformer that appends one output column per (output, input)
/// column pair, row to row, lazily. It gives the stage <see cref="GetOutputSchema"/>, <see cref="GetRowToRowMapper"/>
/// (so <c>PredictionEngine</c> works), <see cref="Transform"/> (exportable to ONNX), the training pass that
/// <c>EstimatorChain.Fit</c> hands to the next stages, and saving with <c>mlContext.Model.Save</c>.
/// </summary>
/// <remarks>
/// Only this library's stages derive from it (its extension points are internal). A stage supplies its mapping, its
/// ONNX nodes, its training pass if it has one, and its model format.
/// </remarks>
public abstract class ColumnPairTransformer : ITransformer, ITransformerWithDifferentMappingAtTrainingTime
{
    private readonly InputOutputColumnPair[] _columnPairs;

    internal ColumnPairTransformer(IEnumerable<InputOutputColumnPair> columnPairs)
    {
        _columnPairs = [.. columnPairs];
        ColumnPairs = Array.AsReadOnly(_columnPairs);
    }

    /// <summary>The (output, input) column pairs, in order.</summary>
    public IReadOnlyList<InputOutputColumnPair> ColumnPairs { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of a type the stage does not accept.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Mapper(inputSchema).OutputSchema;

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of a type the stage does not accept.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => Mapper(inputSchema);

    /// <summary>
    /// The scoring map, applied lazily: each cursor computes the output columns on demand. Called while an
    /// <c>EstimatorChain.Fit</c> runs, from a nested chain (<c>x.Append(bn.Append(dropout)).Append(trainer)</c>: the outer
    /// chain applies the inner one's <c>TransformerChain</c> with <c>Transform</c>), a stage that trains differently
    /// gives its training pass instead, so the trainer after the nested chain sees dropped values, as it does when the
    /// stages are appended one by one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of a type the stage does not accept.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (TrainsDifferently && PipelineCallers.InsideEstimatorChainFit() && TrainingView(input) is { } training)
        {
            return training;
        }

        var schema = input.Schema;
        return new ExportableDataView(new MappedDataView(input, Mapper(schema)), input, graph => ExportOnnx(graph, schema));
    }

    /// <summary>
    /// The training pass: what <c>EstimatorChain.Fit</c> hands to the stages after this one. The scoring map unless
    /// the stage trains differently (Dropout drops; BatchNormalize can normalize with each mini-batch's statistics).
    /// </summary>
    public IDataView TransformForTraining(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return TrainingView(input) ?? Transform(input);
    }

    IDataView ITransformerWithDifferentMappingAtTrainingTime.TransformForTrainingPipeline(IDataView input) => TransformForTraining(input);

    void ICanSaveModel.Save(ModelSaveContext ctx) => Save(ctx);

    /// <summary>The scoring map for <paramref name="inputSchema"/>; checks every input column.</summary>
    internal ColumnMapper Mapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return CreateMapper(inputSchema);
    }

    /// <summary>The stage's scoring map: one output column per pair. Throws as <see cref="GetOutputSchema"/> documents.</summary>
    internal abstract ColumnMapper CreateMapper(DataViewSchema inputSchema);

    /// <summary>Writes the scoring map's ONNX nodes (the training pass is never exported).</summary>
    internal abstract void ExportOnnx(OnnxGraph graph, DataViewSchema inputSchema);

    /// <summary>The stage's own training pass, or null when it trains as it scores.</summary>
    internal virtual IDataView? TrainingView(IDataView input) => null;

    /// <summary>Whether <see cref="TrainingView"/> gives a pass of its own (checked before the stack is read).</summary>
    internal virtual bool TrainsDifferently => false;

    /// <summary>Saves the stage: <c>ModelPersistence.Save(ctx, this)</c> with the stage's <see cref="IPersistedStage{TSelf}"/>.</summary>
    internal abstract void Save(ModelSaveContext ctx);
}
