using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests;

/// <summary>The README's quick start, line for line, so it cannot drift from the API.</summary>
public sealed class ReadmeQuickStartTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mlnorm-readme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void QuickStart_RunsAsWritten()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ModelIo.ToView(ml, TestData.Random(1, 600, 8, mean: 3, std: 2));

        var pipeline = ml.Transforms.BatchNormalize("Features", batchSize: 256, momentum: 0.9)
            .Append(ml.Transforms.Dropout("Features", dropProbability: 0.2f))
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression());
        var model = pipeline.Fit(train);

        ml.Model.Save(model, train.Schema, Path.Combine(_dir, "model.zip"));
        var loaded = new MLContext().Model.Load(Path.Combine(_dir, "model.zip"), out var schema);

        var bn = loaded.GetStages<BatchNormalizingTransformer>().Single();
        Assert.Equal(8, bn.Columns[0].RunningMean.Count);
        Assert.Equal(((BatchNormalizingTransformer)model.First()).Columns[0].RunningMean, bn.Columns[0].RunningMean);

        using (var onnx = File.Create(Path.Combine(_dir, "model.onnx")))
        {
            ml.Model.ConvertToOnnx(model, train, onnx);
        }

        Assert.True(new FileInfo(Path.Combine(_dir, "model.onnx")).Length > 0);
        Assert.Equal(
            model.Transform(train).GetColumn<float>("Score").ToArray(),
            loaded.Transform(train).GetColumn<float>("Score").ToArray());
        Assert.Contains(schema, c => c.Name == "Features");
    }
}
