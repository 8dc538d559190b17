using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

public class ModelPersistenceTests
{
    private static readonly float[][] Rows = TestData.Random(seed: 3, rows: 100, size: 5, mean: 4, std: 2);

    [Fact]
    public void SaveLoad_InProcess_GivesBitIdenticalOutputs_AndParameters()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, Rows, 5);
        var model = ml.Transforms.BatchNormalize("Normalized", "Features", batchSize: 16).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;

        var loaded = new MLContext(seed: 2).Model.Load(stream, out var schema);

        var stage = Assert.IsType<BatchNormalizingTransformer>(Unwrap(loaded));
        Assert.Equal(model.Columns[0].RunningMean, stage.Columns[0].RunningMean);
        Assert.Equal(model.Columns[0].RunningVariance, stage.Columns[0].RunningVariance);
        Assert.Equal(model.Columns[0].BatchCount, stage.Columns[0].BatchCount);
        Assert.Equal(data.Schema.Select(c => c.Name), schema.Select(c => c.Name));
        var expected = TestData.ReadVectors(model.Transform(data), "Normalized");
        var actual = TestData.ReadVectors(loaded.Transform(data), "Normalized");
        Assert.Equal(expected.Select(Bits), actual.Select(Bits));
    }

    [Fact]
    public void Dropout_SaveLoad_KeepsSeedPAndKind_AndTheTrainingMasks()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, Rows, 5);
        var options = new DropoutEstimator.Options { DropProbability = 0.4f, Seed = 123, Kind = DropoutKind.Standard };
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Features")], options).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;

        var stage = Assert.IsType<DropoutTransformer>(Unwrap(new MLContext(seed: 2).Model.Load(stream, out _)));

        Assert.Equal((0.4f, 123, DropoutKind.Standard), (stage.DropProbability, stage.Seed, stage.Kind));
        Assert.Equal(TestData.ReadVectors(model.TransformForTraining(data), "Out"), TestData.ReadVectors(stage.TransformForTraining(data), "Out"));
        Assert.Equal(TestData.ReadVectors(model.Transform(data), "Out"), TestData.ReadVectors(stage.Transform(data), "Out"));
    }

    [Fact]
    public void Load_TruncatedModel_FailsWithClearError()
    {
        var bytes = SavedModelBytes();
        foreach (int keep in new[] { 10, bytes.Length / 2, bytes.Length - 30 })
        {
            using var truncated = new MemoryStream(bytes, 0, keep);
            var ex = Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(truncated, out _));
            Assert.False(ex is NullReferenceException or IndexOutOfRangeException, ex.ToString());
        }
    }

    [Fact]
    public void Load_CorruptSlotCount_FailsWithInvalidData()
    {
        var bytes = SavedModelBytes();
        using var stream = new MemoryStream();
        stream.Write(bytes);
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            var entry = zip.Entries.Single(e => e.FullName == "TransformerChain/Model.key");
            using var ms = new MemoryStream();
            using (var s = entry.Open())
            {
                s.CopyTo(ms);
            }

            var model = ms.ToArray();
            // The body follows the 0x100-byte header: int column count, then the two names, then the slot count.
            long bodyStart = BitConverter.ToInt64(model, 0x10); // ModelHeader.FpModel
            int offset = (int)bodyStart + 4;
            offset += 1 + model[offset];  // output name (length-prefixed, short)
            offset += 1 + model[offset];  // input name
            BitConverter.GetBytes(int.MaxValue / 4).CopyTo(model, offset); // slots: far more than the file holds
            entry.Delete();
            using var w = zip.CreateEntry("TransformerChain/Model.key").Open();
            w.Write(model);
        }

        stream.Position = 0;
        var ex = Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(stream, out _));
        var messages = Flatten(ex).Select(e => e.Message).ToList();
        Assert.Contains(messages, m => m.Contains("BatchNormalize model is truncated", StringComparison.Ordinal));
    }

    private static byte[] SavedModelBytes()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, Rows, 5);
        var model = ml.Transforms.BatchNormalize("Features").Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        return stream.ToArray();
    }

    private static ITransformer Unwrap(ITransformer loaded) =>
        loaded is TransformerChain<ITransformer> chain ? chain.Single() : loaded;

    private static string Bits(float[] row) => string.Join(",", row.Select(v => BitConverter.SingleToInt32Bits(v).ToString("X8")));

    private static IEnumerable<Exception> Flatten(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
