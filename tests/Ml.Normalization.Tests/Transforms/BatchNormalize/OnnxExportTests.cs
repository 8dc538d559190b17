using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>Models with our stages export through mlContext.Model.ConvertToOnnx and run in ONNX Runtime as in ML.NET.</summary>
public class OnnxExportTests
{
    private const int RowCount = 64;

    [Fact]
    public void BatchNormalize_SeveralColumnsOfEveryType_RunInOnnxRuntime_AsInMlNet()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MixedRow.Make(1, RowCount), MixedRow.Schema());
        var model = ml.Transforms.BatchNormalize(
        [
            new InputOutputColumnPair("F", "Floats"),
            new InputOutputColumnPair("D", "Doubles"),
            new InputOutputColumnPair("S", "Scalar"),
            new InputOutputColumnPair("SD", "ScalarDouble"),
        ], batchSize: 16).Fit(data);

        var onnx = RunOnnx(ml, model, data);

        Assert.Equal(ReadFloats(model.Transform(data), "F"), (float[])onnx["F.output"]);
        Assert.Equal(ReadFloats(model.Transform(data), "S"), (float[])onnx["S.output"]);
        Assert.Equal(ReadDoubles(model.Transform(data), "D"), (double[])onnx["D.output"]);
        Assert.Equal(ReadDoubles(model.Transform(data), "SD"), (double[])onnx["SD.output"]);
    }

    [Theory]
    [InlineData(DropoutKind.Inverted)]
    [InlineData(DropoutKind.Standard)]
    public void Dropout_ExportsItsScoringMap(DropoutKind kind)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MixedRow.Make(2, RowCount), MixedRow.Schema());
        var options = new DropoutEstimator.Options { DropProbability = 0.3f, Kind = kind, Seed = 5 };
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("F", "Floats"), new InputOutputColumnPair("D", "Doubles")], options).Fit(data);

        var onnx = RunOnnx(ml, model, data);

        Assert.Equal(ReadFloats(model.Transform(data), "F"), (float[])onnx["F.output"]);
        Assert.Equal(ReadDoubles(model.Transform(data), "D"), (double[])onnx["D.output"]);
    }

    [Fact]
    public void PipelineWithATrainer_ExportsInOneCall_AndScoresAsInMlNet()
    {
        var ml = new MLContext(seed: 1);
        var rows = MixedRow.Make(3, 400);
        var data = ml.Data.LoadFromEnumerable(rows, MixedRow.Schema());
        var model = ml.Transforms.BatchNormalize("Floats", batchSize: 32)
            .Append(ml.Transforms.Dropout("Floats", dropProbability: 0.2f, seed: 3))
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression("Label", "Floats", maximumNumberOfIterations: 20))
            .Fit(data);

        var onnx = RunOnnx(ml, model, data);

        var expected = ReadFloats(model.Transform(data), "Probability");
        var actual = (float[])onnx["Probability.output"];
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.InRange(actual[i], expected[i] - 1e-6f, expected[i] + 1e-6f);
        }
    }

    /// <summary>Converts the model, feeds every ONNX input from <paramref name="data"/>, and returns the outputs by name.</summary>
    private static Dictionary<string, Array> RunOnnx(MLContext ml, ITransformer model, IDataView data)
    {
        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        var inputs = new List<NamedOnnxValue>();
        foreach (var (name, meta) in session.InputMetadata)
        {
            int width = (int)meta.Dimensions[1];
            if (meta.ElementType == typeof(float))
            {
                inputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(ReadFloats(data, name), [CountRows(data), width])));
            }
            else if (meta.ElementType == typeof(double))
            {
                inputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<double>(ReadDoubles(data, name), [CountRows(data), width])));
            }
            else if (meta.ElementType == typeof(bool))
            {
                var labels = data.GetColumn<bool>(name).ToArray();
                inputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>(labels, [labels.Length, 1])));
            }
            else
            {
                throw new NotSupportedException($"input {name} of {meta.ElementType}");
            }
        }

        using var results = session.Run(inputs);
        var outputs = new Dictionary<string, Array>();
        foreach (var r in results)
        {
            if (r.ElementType == TensorElementType.Float)
            {
                outputs[r.Name] = r.AsTensor<float>().ToArray();
            }
            else if (r.ElementType == TensorElementType.Double)
            {
                outputs[r.Name] = r.AsTensor<double>().ToArray();
            }
        }

        return outputs;
    }

    private static int CountRows(IDataView data) => (int)(data.GetRowCount() ?? data.GetColumn<bool>("Label").Count());

    private static float[] ReadFloats(IDataView view, string column) => view.Schema[column].Type is VectorDataViewType
        ? view.GetColumn<VBuffer<float>>(column).SelectMany(v => v.DenseValues()).ToArray()
        : view.GetColumn<float>(column).ToArray();

    private static double[] ReadDoubles(IDataView view, string column) => view.Schema[column].Type is VectorDataViewType
        ? view.GetColumn<VBuffer<double>>(column).SelectMany(v => v.DenseValues()).ToArray()
        : view.GetColumn<double>(column).ToArray();

    private sealed class MixedRow
    {
        public float[] Floats { get; set; } = [];

        public double[] Doubles { get; set; } = [];

        public float Scalar { get; set; }

        public double ScalarDouble { get; set; }

        public bool Label { get; set; }

        public static SchemaDefinition Schema()
        {
            var schema = SchemaDefinition.Create(typeof(MixedRow));
            schema[nameof(Floats)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 7);
            schema[nameof(Doubles)].ColumnType = new VectorDataViewType(NumberDataViewType.Double, 3);
            return schema;
        }

        public static MixedRow[] Make(int seed, int rows)
        {
            var f = TestData.Random(seed, rows, 7, mean: 5, std: 3);
            var d = TestData.Random(seed + 100, rows, 3, mean: -2, std: 0.5);
            var s = SeededData.Normal(seed + 200, rows, 1e3, 10);
            return Enumerable.Range(0, rows).Select(i => new MixedRow
            {
                Floats = f[i],
                Doubles = d[i].Select(v => (double)v).ToArray(),
                Scalar = s[i],
                ScalarDouble = s[i] * 0.5,
                Label = f[i][0] + f[i][1] > 10,
            }).ToArray();
        }
    }
}
