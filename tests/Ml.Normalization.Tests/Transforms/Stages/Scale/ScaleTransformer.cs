using Microsoft.ML;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Persistence;
using Ml.Normalization.Tests.Transforms.Stages.Scale;
using Ml.Normalization.Transforms.Stages;

// Registered from the test assembly: a saved model names this assembly as its loader's, and ML.NET registers the
// assembly a model names before it looks the loader up, as it does for the library's own stages.
[assembly: LoadableStage<ScaleTransformer>("Scale (example stage)")]

namespace Ml.Normalization.Tests.Transforms.Stages.Scale;

/// <summary>The fitted example stage: <c>y = Factor * x</c>. Mapping, ONNX nodes and model format.</summary>
internal sealed class ScaleTransformer : ColumnPairTransformer, IPersistedStage<ScaleTransformer>
{
    internal const string LoaderSignature = "MlNormScaleExample";

    // Format history: 0x00010001 initial (column count, name pairs, factor).
    private const uint FormatInitial = 0x00010001;

    internal ScaleTransformer(IEnumerable<InputOutputColumnPair> columns, float factor)
        : base(columns) => Factor = factor;

    public float Factor { get; }

    static StageFormat IPersistedStage<ScaleTransformer>.Format { get; } =
        new("MLNSCALE", FormatInitial, FormatInitial, FormatInitial, LoaderSignature, "Scale");

    internal override ColumnMapper CreateMapper(DataViewSchema inputSchema)
    {
        var outputs = new OutputColumn[ColumnPairs.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            var pair = ColumnPairs[i];
            var input = inputSchema.GetColumnOrNull(pair.InputColumnName) ?? throw ColumnTypes.MissingColumn(pair.InputColumnName, nameof(inputSchema));
            var shape = ColumnTypes.Check(input.Type, input.Name, allowVariableSize: true, nameof(inputSchema));
            if (shape.IsDouble)
            {
                throw ColumnTypes.Mismatch(input.Name, "Single or vector of Single", input.Type.ToString(), nameof(inputSchema));
            }

            int source = input.Index;
            float factor = Factor;
            outputs[i] = new OutputColumn(pair.OutputColumnName, input.Type, DataViewSchema.Annotations.Empty, source,
                shape.IsVector ? row => ScaledGetters.Vector(row, source, factor) : row => ScaledGetters.Scalar(row, source, factor));
        }

        return new ColumnMapper(inputSchema, outputs);
    }

    internal override void ExportOnnx(OnnxGraph graph, DataViewSchema inputSchema)
    {
        foreach (var pair in ColumnPairs)
        {
            if (!graph.HasColumn(pair.InputColumnName))
            {
                graph.OmitColumn(pair.OutputColumnName);
                continue;
            }

            string input = graph.ColumnVariable(pair.InputColumnName);
            string output = graph.AddColumn(inputSchema[pair.InputColumnName].Type, pair.OutputColumnName);
            graph.Node("Mul", [input, graph.Constant([Factor], "factor")], output);
        }
    }

    internal override void Save(ModelSaveContext ctx) => ModelPersistence.Save(ctx, this);

    static ScaleTransformer IPersistedStage<ScaleTransformer>.Read(ModelBodyReader reader, uint formatVersion)
        => new(ColumnPairFormat.Read(reader), reader.ReadSingle());

    void IPersistedStage<ScaleTransformer>.WriteBody(BinaryWriter writer)
    {
        ColumnPairFormat.Write(writer, ColumnPairs);
        writer.Write(Factor);
    }
}
