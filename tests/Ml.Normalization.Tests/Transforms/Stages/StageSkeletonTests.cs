using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;
using Ml.Normalization.Tests.Transforms.Stages.Scale;

namespace Ml.Normalization.Tests.Transforms.Stages;

/// <summary>
/// What a new stage gets from the skeleton (ColumnPairEstimator, ColumnPairTransformer, IPersistedStage and the generic
/// StageLoader), shown with the example stage in Scale/ beside this file: two files in the test assembly (so the
/// package does not carry them) that use the library's internals as a stage of the library does. Schema agreement,
/// bad input refused at GetOutputSchema and Fit, the row-to-row mapper, Model.Save/Load with outputs bit for bit (the
/// loader registered from the test assembly), and ONNX export run in ONNX Runtime.
/// </summary>
public class StageSkeletonTests
{
    private static readonly float[][] Rows = TestData.Random(seed: 21, rows: 9, size: 3);

    [Fact]
    public void ExampleStage_FitsAndTransforms_WithTheSchemaItsEstimatorPromised()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var estimator = Estimator(ml, 2.5f);

        var model = estimator.Fit(data);
        var output = model.Transform(data);

        var promised = estimator.GetOutputSchema(Shapes.Of(data.Schema));
        var column = Assert.Single(promised, c => c.Name == "Scaled");
        Assert.Equal(output.Schema["Scaled"].Type, new VectorDataViewType(NumberDataViewType.Single, 3));
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, column.Kind);
        Assert.Equal(NumberDataViewType.Single, column.ItemType);
        var scaled = TestData.ReadVectors(output, "Scaled");
        for (int i = 0; i < Rows.Length; i++)
        {
            Assert.Equal(Rows[i].Select(v => v * 2.5f), scaled[i]);
        }
    }

    [Fact]
    public void ExampleStage_RefusesAMissingColumn_AtSchemaTimeAndAtFit()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var estimator = new ScaleEstimator(MlNetEnvironment.Of(ml.Transforms), [new InputOutputColumnPair("Scaled", "Missing")], 2f);

        var atSchema = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shapes.Of(data.Schema)));
        var atFit = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));

        Assert.Contains("'Missing'", atSchema.Message, StringComparison.Ordinal);
        Assert.Equal(atSchema.Message, atFit.Message.Replace("(Parameter 'input')", "(Parameter 'inputSchema')", StringComparison.Ordinal));
    }

    [Fact]
    public void ExampleStage_SavesAndLoadsThroughTheGenericLoader_BitForBit()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var model = Estimator(ml, -0.75f).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;

        var loaded = Assert.IsType<ScaleTransformer>(new MLContext().Model.Load(stream, out _));

        Assert.Equal(-0.75f, loaded.Factor);
        Assert.Equal(model.ColumnPairs.Select(p => (p.OutputColumnName, p.InputColumnName)), loaded.ColumnPairs.Select(p => (p.OutputColumnName, p.InputColumnName)));
        Assert.Equal(ModelIo.Dump(model.Transform(data)), ModelIo.Dump(loaded.Transform(data)));
    }

    [Fact]
    public void ExampleStage_RowToRowMapper_GivesTheTransformsValues()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var model = Estimator(ml, 3f).Fit(data);

        var engine = ml.Model.CreatePredictionEngine<ModelIo.Row, ScaledRow>(model, inputSchemaDefinition: Schema());
        var predicted = engine.Predict(new ModelIo.Row { Features = Rows[4] }).Scaled;

        Assert.Equal(TestData.ReadVectors(model.Transform(data), "Scaled")[4], predicted);
    }

    [Fact]
    public void ExampleStage_ExportsToOnnx_AndOnnxRuntimeGivesTheSameValues()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var model = Estimator(ml, 1.5f).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        var features = new DenseTensor<float>(Rows.SelectMany(r => r).ToArray(), [Rows.Length, 3]);
        var labels = new DenseTensor<bool>(data.GetColumn<bool>("Label").ToArray(), [Rows.Length, 1]);

        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", features), NamedOnnxValue.CreateFromTensor("Label", labels)]);

        var onnx = results.Single(r => r.Name.StartsWith("Scaled", StringComparison.Ordinal)).AsTensor<float>().ToArray();
        Assert.Equal(TestData.ReadVectors(model.Transform(data), "Scaled").SelectMany(r => r), onnx);
    }

    private static ScaleEstimator Estimator(MLContext ml, float factor) =>
        new(MlNetEnvironment.Of(ml.Transforms), [new InputOutputColumnPair("Scaled", "Features")], factor);

    private static SchemaDefinition Schema()
    {
        var schema = SchemaDefinition.Create(typeof(ModelIo.Row));
        schema[nameof(ModelIo.Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
        return schema;
    }

    public sealed class ScaledRow
    {
        [VectorType(3)]
        public float[] Scaled { get; set; } = [];
    }
}
