using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>A Double column exports double constants: ONNX Runtime reproduces ML.NET bit for bit at any magnitude.</summary>
public class OnnxExportPrecisionTests
{
    [Fact]
    public void DoubleColumns_BeyondFloatRange_AndBeyondFloatPrecision_RunInOnnxRuntime_AsInMlNet()
    {
        var ml = new MLContext(seed: 1);
        var huge = Rows(51, 200, 3, 5e20, 2e20);           // variances ~4e40: beyond float
        var offset = Rows(52, 200, 2, 1.234567890123e6, 0.37); // float would round the mean by ~0.06
        var data = ml.Data.LoadFromEnumerable(huge.Select((h, i) => new Row { Huge = h, Offset = offset[i] }), Row.Schema());
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("H", "Huge"), new InputOutputColumnPair("O", "Offset")], batchSize: 32).Fit(data);

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        using var results = session.Run(
        [
            NamedOnnxValue.CreateFromTensor("Huge", new DenseTensor<double>(huge.SelectMany(r => r).ToArray(), [huge.Length, 3])),
            NamedOnnxValue.CreateFromTensor("Offset", new DenseTensor<double>(offset.SelectMany(r => r).ToArray(), [offset.Length, 2])),
        ]);
        var onnx = results.ToDictionary(r => r.Name, r => r.AsTensor<double>().ToArray());

        var transformed = model.Transform(data);
        Assert.Equal(Read(transformed, "H"), onnx["H.output"]);
        Assert.Equal(Read(transformed, "O"), onnx["O.output"]);

        // And the constants are the double ones: the outputs match a double reference, not a float-rounded one.
        var (mean, variance) = ReferenceStatistics.Running(offset, 32, 0.9);
        for (int k = 0; k < onnx["O.output"].Length; k++)
        {
            int i = k / 2, j = k % 2;
            double expected = (offset[i][j] - mean[j]) / Math.Sqrt(variance[j] + 1e-5);
            Assert.Equal(expected, onnx["O.output"][k], 1e-9 * (1 + Math.Abs(expected)));
        }
    }

    [Fact]
    public void ScaleBeyondFloatsRange_ExportsAsTwoFactors_AndRunsInOnnxRuntime_AsInMlNet()
    {
        // Gamma 1e37 over a constant slot: scale 3.2e39 is no float. ML.NET applies it as two float factors; so must ONNX.
        var ml = new MLContext(seed: 1);
        float[][] train = [[4f, 1f], [4f, 2f], [4f, 3f], [4f, 6f]];
        var options = new BatchNormalizingEstimator.Options { BatchSize = 4, Gamma = [1e37f], Beta = [0.25f] };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], options).Fit(TestData.Vectors(ml, train, 2));
        float[][] rows = [[4f, 2f], [4.0000005f, 3f], [3.9999998f, -1f]];
        var data = TestData.Vectors(ml, rows, 2);

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(rows.SelectMany(r => r).ToArray(), [rows.Length, 2]))]);
        var onnx = results.Single(r => r.Name == "Out.output").AsTensor<float>().ToArray();

        var expected = TestData.ReadVectors(model.Transform(data), "Out").SelectMany(r => r).ToArray();
        Assert.Equal(expected, onnx);
        Assert.Equal(0.25f, onnx[0]);
    }

    private static double[][] Rows(int seed, int count, int slots, double mean, double std)
    {
        var flat = SeededData.NormalDouble(seed, count * slots, mean, std);
        return Enumerable.Range(0, count).Select(i => flat.AsSpan(i * slots, slots).ToArray()).ToArray();
    }

    private static double[] Read(IDataView view, string column) =>
        view.GetColumn<VBuffer<double>>(column).SelectMany(v => v.DenseValues()).ToArray();

    private sealed class Row
    {
        public double[] Huge { get; set; } = [];

        public double[] Offset { get; set; } = [];

        public static SchemaDefinition Schema()
        {
            var schema = SchemaDefinition.Create(typeof(Row));
            schema[nameof(Huge)].ColumnType = new VectorDataViewType(NumberDataViewType.Double, 3);
            schema[nameof(Offset)].ColumnType = new VectorDataViewType(NumberDataViewType.Double, 2);
            return schema;
        }
    }
}
