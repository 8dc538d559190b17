using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

public class BatchNormalizingEstimatorTests
{
    [Fact]
    public void Transform_AppliesTheFormula_WithTheFittedParameters()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(1, 300, 9, mean: 5, std: 3);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 32, Gamma = [2f], Beta = [0.5f] };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], options).Fit(TestData.Vectors(ml, rows, 9));
        var p = model.Columns[0];
        var output = TestData.ReadVectors(model.Transform(TestData.Vectors(ml, rows, 9)), "Out");
        for (int i = 0; i < rows.Length; i++)
        {
            var expected = rows[i].Select((x, j) => (p.Gamma[j] * (x - (double)p.RunningMean[j]) / Math.Sqrt(p.RunningVariance[j] + (double)p.Epsilon)) + p.Beta[j]).ToArray();
            Approx.Equal(expected, output[i], 1e-6, 1e-6, $"row {i}");
        }

        Assert.All(p.Gamma, g => Assert.Equal(2f, g));
        Assert.Equal(10, p.BatchCount); // 9 full batches of 32 and a final partial one of 12
        Assert.Equal(300, p.RowCount);
    }

    [Fact]
    public void Fit_WithBiasCorrection_OneBatch_GivesThatBatchsStatistics()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(2, 50, 3, mean: 7, std: 2);
        var p = ml.Transforms.BatchNormalize("Features", batchSize: 100).Fit(TestData.Vectors(ml, rows, 3)).Columns[0];
        for (int j = 0; j < 3; j++)
        {
            double mean = rows.Average(r => (double)r[j]);
            double variance = rows.Average(r => Math.Pow(r[j] - mean, 2));
            Assert.Equal(mean, p.RunningMean[j], 4);
            Assert.Equal(variance, p.RunningVariance[j], 3);
        }
    }

    [Fact]
    public void Fit_NullMomentum_IsThePlainAverageOfBatchStatistics()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(3, 40, 2, mean: 1, std: 2);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 10, Momentum = null };
        var p = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(TestData.Vectors(ml, rows, 2)).Columns[0];
        for (int j = 0; j < 2; j++)
        {
            var batches = rows.Chunk(10).Select(b => b.Select(r => (double)r[j]).ToArray()).ToArray();
            double mean = batches.Average(b => b.Average());
            double variance = batches.Average(b => b.Average(v => Math.Pow(v - b.Average(), 2)));
            Assert.Equal(mean, p.RunningMean[j], 5);
            Assert.Equal(variance, p.RunningVariance[j], 4);
        }
    }

    [Fact]
    public void Fit_SkipsNaN_InStatistics_AndNaNPassesThrough()
    {
        var ml = new MLContext(seed: 1);
        float[][] rows =
        [
            [1f, float.NaN], [3f, 2f], [float.PositiveInfinity, 4f], [5f, 6f],
        ];
        var model = ml.Transforms.BatchNormalize("Features", batchSize: 4).Fit(TestData.Vectors(ml, rows, 2));
        var p = model.Columns[0];
        Assert.Equal(3f, p.RunningMean[0], 5);            // mean of 1, 3, 5
        Assert.Equal(8f / 3f, p.RunningVariance[0], 5);   // biased variance of 1, 3, 5
        Assert.Equal(4f, p.RunningMean[1], 5);            // mean of 2, 4, 6
        var output = TestData.ReadVectors(model.Transform(TestData.Vectors(ml, rows, 2)), "Features");
        Assert.True(float.IsNaN(output[0][1]));
        Assert.True(float.IsPositiveInfinity(output[2][0]));
    }

    [Fact]
    public void Fit_SlotWithFewerThanTwoFiniteValuesInABatch_SkipsThatBatch()
    {
        var ml = new MLContext(seed: 1);
        float[][] rows = [[1f, float.NaN], [3f, 10f], [2f, 4f], [6f, 8f]];
        var p = ml.Transforms.BatchNormalize("Features", batchSize: 2, momentum: 0.5f).Fit(TestData.Vectors(ml, rows, 2)).Columns[0];
        // Slot 1 has one finite value in the first batch: only the second batch (4, 8) counts, so its bias-corrected
        // running statistics are that batch's own.
        Assert.Equal(6f, p.RunningMean[1], 5);
        Assert.Equal(4f, p.RunningVariance[1], 5);
        // Slot 0 has both batches: (1, 3) then (2, 6): mean 2 then 4 -> (0.5 * 0.5 * 2 + 0.5 * 4) / (1 - 0.25).
        Assert.Equal(((0.25 * 2) + (0.5 * 4)) / 0.75, p.RunningMean[0], 5);
    }

    [Fact]
    public void Fit_ConstantSlot_HasZeroVariance_AndMapsTheConstantToBeta()
    {
        var ml = new MLContext(seed: 1);
        float[][] rows = [[4f, 1f], [4f, 2f], [4f, 3f]];
        var options = new BatchNormalizingEstimator.Options { Beta = [0.25f] };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(TestData.Vectors(ml, rows, 2));
        Assert.Equal(0f, model.Columns[0].RunningVariance[0]);
        var output = TestData.ReadVectors(model.Transform(TestData.Vectors(ml, rows, 2)), "Features");
        Assert.All(output, r => Assert.Equal(0.25f, r[0]));
    }

    [Fact]
    public void Fit_LargeOffset_KeepsVarianceAccurate()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(4, 2000, 3, mean: 1e4, std: 1);
        var p = ml.Transforms.BatchNormalize("Features", batchSize: 2000).Fit(TestData.Vectors(ml, rows, 3)).Columns[0];
        for (int j = 0; j < 3; j++)
        {
            double mean = rows.Average(r => (double)r[j]);
            double variance = rows.Average(r => Math.Pow(r[j] - mean, 2));
            Assert.InRange(p.RunningVariance[j], variance * 0.999, variance * 1.001);
        }
    }

    [Fact]
    public void Fit_SparseInput_CountsImplicitZeros_AndWritesDense()
    {
        var ml = new MLContext(seed: 1);
        var dense = new float[][] { [0f, 2f, 0f, 4f], [1f, 0f, 0f, 2f], [0f, 0f, 3f, 0f] };
        var sparseView = SparseView(ml, dense);
        var fromSparse = ml.Transforms.BatchNormalize("Features", batchSize: 3).Fit(sparseView);
        var fromDense = ml.Transforms.BatchNormalize("Features", batchSize: 3).Fit(TestData.Vectors(ml, dense, 4));
        // The same statistics to a rounding or two: the sparse fit joins a batch's implicit zeros in closed form.
        Approx.Equal([.. fromDense.Columns[0].RunningMean], [.. fromSparse.Columns[0].RunningMean], 1e-15, 0, "mean");
        Approx.Equal([.. fromDense.Columns[0].RunningVariance], [.. fromSparse.Columns[0].RunningVariance], 1e-15, 0, "variance");

        var column = fromSparse.Transform(sparseView).Schema["Features"];
        using var cursor = fromSparse.Transform(sparseView).GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var expected = TestData.ReadVectors(fromDense.Transform(TestData.Vectors(ml, dense, 4)), "Features");
        VBuffer<float> buffer = default;
        for (int i = 0; cursor.MoveNext(); i++)
        {
            getter(ref buffer);
            Assert.True(buffer.IsDense);
            Assert.Equal(expected[i], buffer.DenseValues().ToArray());
        }
    }

    [Fact]
    public void Fit_DoubleAndScalarColumns_KeepTheirTypes()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(5, 40, 3).Select(r => r.Select(v => (double)v).ToArray()).ToArray();
        var doubles = TestData.DoubleVectors(ml, rows, 3);
        var model = ml.Transforms.BatchNormalize("Out", "Features", batchSize: 8).Fit(doubles);
        var outType = Assert.IsType<VectorDataViewType>(model.GetOutputSchema(doubles.Schema)["Out"].Type);
        Assert.Equal(NumberDataViewType.Double, outType.ItemType);
        Assert.Equal(3, outType.Size);

        var scalars = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 20).Select(i => new TestData.ScalarRow { Value = i }));
        var scalarModel = ml.Transforms.BatchNormalize("Out", "Value", batchSize: 20).Fit(scalars);
        Assert.Equal(NumberDataViewType.Single, scalarModel.GetOutputSchema(scalars.Schema)["Out"].Type);
        var values = ml.Data.CreateEnumerable<ScalarOut>(scalarModel.Transform(scalars), reuseRowObject: false).Select(r => r.Out).ToArray();
        Assert.Equal(0.0, values.Average(), 5);
        Assert.Equal(1.0, values.Average(v => v * v), 4); // the single batch's own statistics (bias-corrected)
    }

    [Fact]
    public void Output_KeepsSlotNames_AndIsNormalized()
    {
        var ml = new MLContext(seed: 1);
        var slotNames = new DataViewSchema.Annotations.Builder();
        slotNames.Add("SlotNames", new VectorDataViewType(TextDataViewType.Instance, 2), (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(2, ["a".AsMemory(), "b".AsMemory()]));
        var data = TestData.Vectors(ml, TestData.Random(6, 10, 2), 2, slotNames.ToAnnotations());
        var estimator = ml.Transforms.BatchNormalize("Out", "Features");
        var schema = estimator.Fit(data).GetOutputSchema(data.Schema);

        VBuffer<ReadOnlyMemory<char>> names = default;
        schema["Out"].GetSlotNames(ref names);
        Assert.Equal(["a", "b"], names.DenseValues().Select(m => m.ToString()));
        Assert.True(schema["Out"].IsNormalized());

        var shape = estimator.GetOutputSchema(Shapes.Of(data.Schema));
        var outShape = shape.Single(c => c.Name == "Out");
        Assert.Contains(outShape.Annotations, a => a.Name == "IsNormalized");
        Assert.Contains(outShape.Annotations, a => a.Name == "SlotNames");
    }

    [Fact]
    public void EstimatorAndTransformerSchemas_Agree()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Random(7, 10, 4), 4);
        var estimator = ml.Transforms.BatchNormalize([new InputOutputColumnPair("A", "Features"), new InputOutputColumnPair("Features")]);
        var shape = estimator.GetOutputSchema(Shapes.Of(data.Schema));
        var schema = estimator.Fit(data).GetOutputSchema(data.Schema);
        var fromTransformer = Shapes.Of(schema);
        Assert.Equal(fromTransformer.Select(c => (c.Name, c.Kind, c.ItemType)).OrderBy(c => c.Name), shape.Select(c => (c.Name, c.Kind, c.ItemType)).OrderBy(c => c.Name));
    }

    [Fact]
    public void PredictionEngine_GivesTheSameAsTransform()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(8, 64, 4, mean: 3);
        var data = TestData.Vectors(ml, rows, 4);
        var model = ml.Transforms.BatchNormalize("Out", "Features", batchSize: 16).Fit(data);
        var expected = TestData.ReadVectors(model.Transform(data), "Out");
        var schema = SchemaDefinition.Create(typeof(TestData.VectorRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        var engine = ml.Model.CreatePredictionEngine<TestData.VectorRow, VectorOut>(model, inputSchemaDefinition: schema);
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(expected[i], engine.Predict(new TestData.VectorRow { Features = rows[i] }).Out);
        }
    }

    [Fact]
    public void CursorSet_GivesTheSameValuesAsOneCursor()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(9, 5000, 8);
        var data = ml.Data.Cache(TestData.Vectors(ml, rows, 8));
        var transformed = ml.Transforms.BatchNormalize("Out", "Features").Fit(data).Transform(data);
        var expected = TestData.ReadVectors(transformed, "Out");

        var seen = TestData.ReadByRowIdInParallel(transformed, "Out", 4);

        Assert.Equal(expected.Count, seen.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], seen[i]);
        }
    }

    [Fact]
    public void Fit_ReportsThroughTheMLContextLog()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) =>
        {
            lock (messages)
            {
                messages.Add(e.Message);
            }
        };
        ml.Transforms.BatchNormalize("Features", batchSize: 10).Fit(TestData.Vectors(ml, TestData.Random(10, 55, 2), 2));
        Assert.Contains(messages, m => m.Contains("BatchNormalize: fitted 1 column(s) on 55 of 55 rows in 6 mini-batches", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_Allocations_DoNotGrowWithTheRowCount()
    {
        var ml = new MLContext(seed: 1);
        var small = ml.Data.Cache(TestData.Vectors(ml, TestData.Random(12, 20_000, 16), 16));
        var large = ml.Data.Cache(TestData.Vectors(ml, TestData.Random(13, 200_000, 16), 16));
        TestData.ReadVectors(small, "Features"); // fill the caches before measuring
        TestData.ReadVectors(large, "Features");

        long Allocated(IDataView data)
        {
            var estimator = ml.Transforms.BatchNormalize("Features", batchSize: 64);
            estimator.Fit(data); // warm up the JIT for this path
            long before = GC.GetAllocatedBytesForCurrentThread();
            estimator.Fit(data);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        // Besides a few per-fit bytes, the progress log's message once a second of a long fit (a Debug build under load
        // takes seconds here): 16 KB covers a dozen; one allocated byte per row would be 180 KB more.
        long smallBytes = Allocated(small), largeBytes = Allocated(large);
        Assert.True(largeBytes < (smallBytes * 1.1) + 16_384, $"20k rows: {smallBytes} B, 200k rows: {largeBytes} B");
    }

    [Fact]
    public void FromKnownParameters_NeedsNoFit_AndAppliesThem()
    {
        var ml = new MLContext(seed: 1);
        var parameters = new BatchNormalizationParameters("Out", "Features", runningMean: [1f, 2f], runningVariance: [4f, 0.25f], gamma: [2f], beta: [0f, 1f], epsilon: 1e-3f);
        var data = TestData.Vectors(ml, [[3f, 3f]], 2);
        var model = ml.Transforms.BatchNormalize(parameters).Fit(data);
        var output = TestData.ReadVectors(model.Transform(data), "Out")[0];
        Assert.Equal(2 * (3 - 1) / Math.Sqrt(4.001), output[0], 5);
        Assert.Equal((2 * (3 - 2) / Math.Sqrt(0.251)) + 1, output[1], 5);
    }

    private static IDataView SparseView(MLContext ml, float[][] dense)
    {
        var rows = dense.Select(r =>
        {
            var indices = Enumerable.Range(0, r.Length).Where(i => r[i] != 0).ToArray();
            return new SparseRow { Features = new VBuffer<float>(r.Length, indices.Length, indices.Select(i => r[i]).ToArray(), indices) };
        }).ToArray();
        var schema = SchemaDefinition.Create(typeof(SparseRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dense[0].Length);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    private sealed class SparseRow
    {
        public VBuffer<float> Features { get; set; }
    }

    private sealed class ScalarOut
    {
        public float Out { get; set; }
    }

    private sealed class VectorOut
    {
        public float[] Out { get; set; } = [];
    }
}
