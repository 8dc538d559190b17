using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>
/// Scale-only BatchNormalize exports as one Mul per column, and ONNX Runtime gives the transform's outputs bit for bit.
/// ONNX tensors are dense: the exporter declares the vector column as a dense [N, slots] input whether its rows are sparse
/// or not, so the sparse rows are fed densified (their zeros come out as zeros).
/// </summary>
public class ScaleOnlyOnnxTests
{
    private const int Slots = 40;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ScaleOnly_ExportsAMulOnly_AndRunsBitIdentical(bool isDouble)
    {
        var ml = new MLContext(seed: 1);
        var rows = SparseData.Make(11, 60, Slots, withNaN: true);
        var data = isDouble ? SparseData.Doubles(ml, rows, Slots, sparse: true) : SparseData.Floats(ml, rows, Slots, sparse: true);
        var options = new BatchNormalizingEstimator.Options { Center = false, BatchSize = 16, Gamma = [-0.75f] };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], options).Fit(data);

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        var bytes = stream.ToArray();
        Assert.True(ContainsOpType(bytes, "Mul"));
        Assert.False(ContainsOpType(bytes, "Sub"));
        Assert.False(ContainsOpType(bytes, "Add"));

        using var session = new InferenceSession(bytes);
        var dense = rows.Select(r => SparseData.Vector(r, Slots, sparse: false, v => v).DenseValues().ToArray()).ToArray();
        var input = isDouble
            ? NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<double>(dense.SelectMany(r => r).ToArray(), [rows.Length, Slots]))
            : NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(dense.SelectMany(r => r.Select(v => (float)v)).ToArray(), [rows.Length, Slots]));
        using var results = session.Run([input]);
        var output = results.Single(r => r.Name == "Out.output");
        var transformed = model.Transform(data);
        if (isDouble)
        {
            Assert.Equal(transformed.GetColumn<VBuffer<double>>("Out").SelectMany(v => v.DenseValues()).ToArray(), output.AsTensor<double>().ToArray());
        }
        else
        {
            Assert.Equal(transformed.GetColumn<VBuffer<float>>("Out").SelectMany(v => v.DenseValues()).ToArray(), output.AsTensor<float>().ToArray());
        }
    }

    [Fact]
    public void ScaleOnly_WithAScaleBeyondFloat_ExportsTwoMuls_AndRunsBitIdentical()
    {
        var ml = new MLContext(seed: 1);
        var p = BatchNormalizationParameters.ForScaleOnly("Out", "Features", [0.0, 1.0, 4.0], gamma: [1e30, 2.0, 1e-3], epsilon: 1e-30);
        var rows = new (int[], double[])[] { ([0, 2], [1e-20, 3.0]), ([1], [5.0]), ([0, 1, 2], [-2e-25, 1.0, double.NaN]) };
        var data = SparseData.Floats(ml, rows, 3, sparse: true);
        var model = ml.Transforms.BatchNormalize(p).Fit(data);

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        var dense = rows.SelectMany(r => SparseData.Vector(r, 3, sparse: false, v => (float)v).DenseValues()).ToArray();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(dense, [rows.Length, 3]))]);
        var expected = model.Transform(data).GetColumn<VBuffer<float>>("Out").SelectMany(v => v.DenseValues()).ToArray();
        Assert.Equal(expected, results.Single(r => r.Name == "Out.output").AsTensor<float>().ToArray());
        Assert.True(float.IsFinite(expected[0]) && expected[0] != 0); // 1e-20 * 1e45: applied as two factors
    }

    /// <summary>Whether the serialized graph has a node of <paramref name="opType"/> (NodeProto.op_type is field 4, a string).</summary>
    private static bool ContainsOpType(byte[] model, string opType)
    {
        byte[] pattern = [0x22, (byte)opType.Length, .. System.Text.Encoding.ASCII.GetBytes(opType)];
        return model.AsSpan().IndexOf(pattern) >= 0;
    }
}
