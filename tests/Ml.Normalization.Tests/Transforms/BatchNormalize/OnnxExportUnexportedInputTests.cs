using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// A stage whose input column no earlier stage could export (here a CustomMapping, which has no ONNX form) leaves
/// its own output out of the graph, as ML.NET's normalizer does: ConvertToOnnx then reports that the pipeline cannot
/// be fully converted, or, when the caller keeps only other columns, exports them without it.
/// </summary>
public class OnnxExportUnexportedInputTests
{
    private const int Slots = 4;

    // SaveOnnxCommand.ConvertTransformListToOnnxModel's check, word for word (ML.NET 5.0.1).
    private const string NotConvertible = "The targeted pipeline can not be fully converted into a well-defined ONNX model. "
        + "Please check if all steps in that pipeline are convertible to ONNX "
        + "and all necessary variables are not dropped (via command line arguments).";

    public static TheoryData<string> Stages => ["NormalizeMeanVariance", "BatchNormalize", "Dropout"];

    [Theory]
    [MemberData(nameof(Stages))]
    public void AfterCustomMapping_ConvertToOnnx_FailsAsForMlNetsNormalizer(string stage)
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Random(seed: 2, rows: 32, size: Slots), Slots);
        var model = Pipeline(ml, stage).Fit(data);
        using var stream = new MemoryStream();

        var ex = Assert.Throws<InvalidOperationException>(() => ml.Model.ConvertToOnnx(model, data, stream));

        Assert.Equal(NotConvertible, ex.Message);
    }

    [Theory]
    [MemberData(nameof(Stages))]
    public void AfterCustomMapping_KeepingOtherColumns_ExportsThemWithoutTheStagesOutput(string stage)
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(seed: 2, rows: 32, size: Slots);
        var data = TestData.Vectors(ml, rows, Slots);
        var model = Pipeline(ml, stage).Fit(data);
        using var stream = new MemoryStream();

        ml.Model.ConvertToOnnx(model, data, stream, "Features", "Scaled");

        using var session = new InferenceSession(stream.ToArray());
        Assert.Equal(["Features.output", "Scaled.output"], session.OutputMetadata.Keys.Order());
        var input = new DenseTensor<float>(rows.SelectMany(r => r).ToArray(), [rows.Length, Slots]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", input)]);
        var scaled = results.Single(r => r.Name == "Scaled.output").AsTensor<float>().ToArray();
        var expected = TestData.ReadVectors(model.Transform(data), "Scaled").SelectMany(r => r).ToArray();
        Assert.Equal(expected.Length, scaled.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.InRange(scaled[i], expected[i] - 1e-5f, expected[i] + 1e-5f);
        }
    }

    private static IEstimator<ITransformer> Pipeline(MLContext ml, string stage)
    {
        var mapping = ml.Transforms.CustomMapping<FeaturesRow, MappedRow>((input, output) => output.Mapped = [.. input.Features.Select(v => v * 2)], contractName: null);
        // "Scaled" exports (the graph then holds an intermediate variable); "Out" reads the unexported "Mapped".
        InputOutputColumnPair[] columns = [new("Scaled", "Features"), new("Out", "Mapped")];
        IEstimator<ITransformer> next = stage switch
        {
            "NormalizeMeanVariance" => ml.Transforms.NormalizeMeanVariance(columns),
            "BatchNormalize" => ml.Transforms.BatchNormalize(columns, batchSize: 8),
            "Dropout" => ml.Transforms.Dropout(columns, dropProbability: 0.2f, seed: 3),
            _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, null),
        };
        return mapping.Append(next);
    }

    private sealed class FeaturesRow
    {
        [VectorType(Slots)]
        public float[] Features { get; set; } = [];
    }

    private sealed class MappedRow
    {
        [VectorType(Slots)]
        public float[] Mapped { get; set; } = [];
    }
}
