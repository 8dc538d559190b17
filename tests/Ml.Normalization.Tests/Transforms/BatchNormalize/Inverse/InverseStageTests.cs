using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;
using Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Inverse;

/// <summary>
/// The inverse stage: <c>x = (y - beta) * sqrt(var + eps) / gamma + mean</c> on its own (not only as a round trip), its
/// entry points and their column selection, the refusal of gamma = 0 at construction, NaN and infinities, sparse rows,
/// the schema it promises and delivers, and PredictionEngine.
/// </summary>
public class InverseStageTests
{
    private static readonly BatchNormalizationParameters Known =
        new("Normalized", "Features", [1.0, -2.0, 100.0], [4.0, 0.25, 9.0], gamma: [2.0, -0.5, 3.0], beta: [0.5, 1.0, -2.0], epsilon: 1e-3);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Inverse_ComputesTheFormula_PerSlot(bool isDouble)
    {
        var ml = new MLContext(seed: 1);
        double[][] y = [[0.5, 1, -2], [3.25, -7.5, 40], [-1e3, 0.001, 1e5]];
        var data = InverseData.View(ml, y, isDouble, 3);
        data = ml.Transforms.CopyColumns("Normalized", "X").Fit(data).Transform(data);

        var restored = InverseData.Read(ml.Transforms.InverseBatchNormalize("Restored", "Normalized", Known).Fit(data).Transform(data), "Restored");

        double u = isDouble ? Math.Pow(2, -53) : Math.Pow(2, -24);
        var stored = InverseData.AsStored(y, isDouble);
        for (int i = 0; i < y.Length; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                double sigma = Math.Sqrt(Known.RunningVariance[j] + Known.Epsilon);
                double expected = ((stored[i][j] - Known.Beta[j]) * sigma / Known.Gamma[j]) + Known.RunningMean[j];
                // Three roundings of the map plus those of its three constants, each relative to one of these terms.
                double bound = 4 * u * (Math.Abs(expected) + Math.Abs(Known.RunningMean[j]) + ((Math.Abs(stored[i][j]) + Math.Abs(Known.Beta[j])) * sigma / Math.Abs(Known.Gamma[j])));
                Assert.True(Math.Abs(restored[i][j] - expected) <= bound, $"row {i} slot {j}: {restored[i][j]:R}, expected {expected:R}");
            }
        }
    }

    [Fact]
    public void Inverse_ScaleOnly_MultipliesBySigmaOverGamma_AndIgnoresTheMean()
    {
        var ml = new MLContext(seed: 1);
        var p = BatchNormalizationParameters.ForScaleOnly("Normalized", "X", [4.0, 0.25], gamma: [2.0, -0.5], epsilon: 0);
        var data = InverseData.View(ml, [[3.0, -8.0]], isDouble: true, 2);

        var restored = InverseData.Read(ml.Transforms.InverseBatchNormalize("Restored", "X", p).Fit(data).Transform(data), "Restored");

        Assert.Equal([[3.0 * 2 / 2, -8.0 * 0.5 / -0.5]], restored);
    }

    [Fact]
    public void Inverse_NaNStaysNaN_InfinitiesStayInfinite_WithGammasSign()
    {
        var ml = new MLContext(seed: 1);
        var p = new BatchNormalizationParameters("N", "X", [1.0, 1.0], [1.0, 1.0], gamma: [2.0, -2.0], beta: [0.5]);
        var data = InverseData.View(ml, [[double.NaN, double.NaN], [double.PositiveInfinity, double.PositiveInfinity], [double.NegativeInfinity, 0]], isDouble: false, 2);

        var restored = InverseData.Read(ml.Transforms.InverseBatchNormalize("R", "X", p).Fit(data).Transform(data), "R");

        Assert.True(double.IsNaN(restored[0][0]) && double.IsNaN(restored[0][1]));
        Assert.Equal([double.PositiveInfinity, double.NegativeInfinity], restored[1]);
        Assert.Equal(double.NegativeInfinity, restored[2][0]);
    }

    [Fact]
    public void InverseScale_IsSigmaOverGamma_ComputedInDouble_AndRoundedOnce()
    {
        // Not 1f / (float)(gamma / sigma): that rounds twice, and differs in the last bit for many slots (counted below, so
        // this test would see the difference).
        var p = InverseData.Parameters(seed: 9, 1000, ChannelLayout.None, centered: true);
        var single = (AffineParameters<float>)AffineParameters.From(p, isDouble: false, AffineDirection.Inverse);
        var wide = (AffineParameters<double>)AffineParameters.From(p, isDouble: true, AffineDirection.Inverse);
        var forward = (AffineParameters<float>)AffineParameters.From(p, isDouble: false);

        int twiceRoundedDiffers = 0;
        for (int j = 0; j < p.UnitCount; j++)
        {
            double sigmaOverGamma = Math.Sqrt(p.RunningVariance[j] + p.Epsilon) / p.Gamma[j];
            Assert.Equal((float)sigmaOverGamma, single.Scale[j]);
            Assert.Equal(sigmaOverGamma, wide.Scale[j]);
            Assert.Equal(((float)p.Beta[j], (float)p.RunningMean[j]), (single.Mean[j], single.Offset[j])); // subtract beta, add the mean
            twiceRoundedDiffers += 1f / forward.Scale[j] != single.Scale[j] ? 1 : 0;
        }

        Assert.True(twiceRoundedDiffers > 50, $"{twiceRoundedDiffers} of 1000 slots");
        Assert.Same(single, AffineParameters.From(p, isDouble: false, AffineDirection.Inverse)); // computed once
        Assert.NotSame(forward, single);
    }

    [Fact]
    public void Inverse_OfFromMeanAndStd_IsFloat32XTimesStdPlusMean_BitForBit()
    {
        // torchvision's un-normalize, x * std + mean on a float32 tensor: the inverse's scale is sqrt(std^2) / 1 = std
        // exactly, rounded once to float, its offset (float)mean, and beta 0 subtracts nothing.
        var ml = new MLContext(seed: 1);
        double[] mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
        var p = BatchNormalizationParameters.FromMeanAndStd("Input", "Pixels", ChannelLayout.ChannelsFirst, mean, std);
        var random = new Random(3);
        float[][] rows = [.. Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, 3 * 16).Select(_ => (float)((random.NextDouble() * 6) - 3)).ToArray())];
        var data = ImageData.View(ml, rows, 3, 4, 4);

        var restored = InverseData.Read(ml.Transforms.InverseBatchNormalize("Restored", "Pixels", p).Fit(data).Transform(data), "Restored");

        for (int i = 0; i < rows.Length; i++)
        {
            var expected = rows[i].Select((y, j) => (double)((y * (float)std[j / 16]) + (float)mean[j / 16])).ToArray();
            Assert.Equal(expected, restored[i]);
        }
    }

    [Fact]
    public void Inverse_OfATinyGamma_WhoseScaleOverflowsFloat_AppliesItAsTwoFactors()
    {
        // sigma / gamma = 1e40, beyond float: beta still maps to the mean (no 0 * infinity), other values overflow as the
        // true product does.
        var ml = new MLContext(seed: 1);
        var p = new BatchNormalizationParameters("N", "X", [5.0], [1e20], gamma: [1e-30], beta: [2.0], epsilon: 0);
        var data = InverseData.View(ml, [[2.0], [2.5]], isDouble: false, 1);

        var restored = InverseData.Read(ml.Transforms.InverseBatchNormalize("R", "X", p).Fit(data).Transform(data), "R");

        Assert.Equal(5.0, restored[0][0]);
        Assert.Equal(double.PositiveInfinity, restored[1][0]);
    }

    [Fact]
    public void GetInverse_UndoesEveryColumnPair_ReadingEachOutputIntoItsInputsName()
    {
        var ml = new MLContext(seed: 1);
        var data = InverseData.View(ml, InverseData.Rows(1, 30, InverseData.Parameters(1, 4, ChannelLayout.None, true), 4, 1), isDouble: false, 4);
        var normalize = ml.Transforms.BatchNormalize([new InputOutputColumnPair("A", "X"), new InputOutputColumnPair("B", "X")], batchSize: 8).Fit(data);

        var inverse = normalize.GetInverse();

        Assert.Equal([("X", "A"), ("X", "B")], inverse.ColumnPairs.Select(c => (c.OutputColumnName, c.InputColumnName)));
        Assert.Equal([("X", "A"), ("X", "B")], inverse.Columns.Select(c => (c.OutputColumnName, c.InputColumnName)));
        Assert.Equal(normalize.Columns[1].RunningMean, inverse.Columns[1].RunningMean);
        Assert.All(inverse.Columns, c => Assert.Equal((0L, 0L), (c.BatchCount, c.RowCount)));
        Assert.All(inverse.Columns, c => Assert.Null(c.FitState));
        Assert.NotNull(normalize.Columns[0].FitState);
    }

    [Fact]
    public void GetInverse_OfOneColumn_AppliesItsParametersToAnotherColumn()
    {
        var ml = new MLContext(seed: 1);
        var p = new BatchNormalizationParameters("Label", null, [50.0], [16.0], beta: [1.0], epsilon: 0);
        var other = new BatchNormalizationParameters("Other", null, [-3.0], [1.0], epsilon: 0);
        var normalize = new BatchNormalizingTransformer([p, other]);
        var data = ml.Data.LoadFromEnumerable(new[] { new ScoreRow { Score = 1.5f }, new ScoreRow { Score = -1f } });

        var inverse = normalize.GetInverse("Price", "Score", normalizedColumnName: "Label");

        Assert.Equal([52f, 42f], inverse.Transform(data).GetColumn<float>("Price")); // (y - 1) * 4 + 50
        var several = Assert.Throws<ArgumentException>(() => normalize.GetInverse("Score"));
        Assert.Equal("normalizedColumnName", several.ParamName);
        Assert.Contains("2 columns ('Label', 'Other')", several.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<ArgumentException>(() => normalize.GetInverse("Score", normalizedColumnName: "Score"));
        Assert.Contains("no column 'Score'", unknown.Message, StringComparison.Ordinal);
        var scoreInPlace = Assert.Single(new BatchNormalizingTransformer([p]).GetInverse("Score").ColumnPairs);
        Assert.Equal(("Score", "Score"), (scoreInPlace.OutputColumnName, scoreInPlace.InputColumnName));
    }

    [Fact]
    public void Catalog_TheThreeOverloads_GiveTheInverseOfTheSameParameters()
    {
        var ml = new MLContext(seed: 1);
        var normalize = new BatchNormalizingTransformer([Known]);
        var data = TestData.Vectors(ml, TestData.Random(seed: 2, rows: 5, size: 3, mean: 1, std: 3), 3);
        data = ml.Transforms.CopyColumns("Normalized", "Features").Fit(data).Transform(data);

        var fromParameters = ml.Transforms.InverseBatchNormalize("Features", "Normalized", Known).Fit(data);
        var fromTransformer = ml.Transforms.InverseBatchNormalize("Features", "Normalized", normalize).Fit(data);
        var undoingAll = ml.Transforms.InverseBatchNormalize(normalize).Fit(data);
        var fromGetInverse = normalize.GetInverse();

        var expected = TestData.ReadVectors(fromGetInverse.Transform(data), "Features");
        Assert.Equal(expected, TestData.ReadVectors(fromParameters.Transform(data), "Features"));
        Assert.Equal(expected, TestData.ReadVectors(fromTransformer.Transform(data), "Features"));
        Assert.Equal(expected, TestData.ReadVectors(undoingAll.Transform(data), "Features"));
        Assert.NotEqual(TestData.ReadVectors(data, "Features"), expected);
    }

    public static TheoryData<string> GammaZeroEntryPoints => ["parameters", "normalizer (one column)", "normalizer (all columns)", "GetInverse()", "GetInverse(column)"];

    [Theory]
    [MemberData(nameof(GammaZeroEntryPoints))]
    public void GammaZero_IsRefusedAtConstruction_NamingTheColumnTheSlotAndGamma(string entryPoint)
    {
        var ml = new MLContext(seed: 1);
        var p = new BatchNormalizationParameters("Label", null, [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], gamma: [1.0, 0.0, 2.0]);
        var normalize = new BatchNormalizingTransformer([p]);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => entryPoint switch
        {
            "parameters" => (object)ml.Transforms.InverseBatchNormalize("Price", "Score", p),
            "normalizer (one column)" => ml.Transforms.InverseBatchNormalize("Price", "Score", normalize),
            "normalizer (all columns)" => ml.Transforms.InverseBatchNormalize(normalize),
            "GetInverse()" => normalize.GetInverse(),
            _ => normalize.GetInverse("Price", "Score"),
        });

        string column = entryPoint is "normalizer (all columns)" or "GetInverse()" ? "Label" : "Score";
        Assert.Contains($"The normalization of 'Label' has no inverse for column '{column}': gamma[1] (slot 1) is 0", ex.Message, StringComparison.Ordinal);
        Assert.Equal(entryPoint.StartsWith("normalizer", StringComparison.Ordinal) ? "normalizer" : entryPoint.StartsWith("GetInverse", StringComparison.Ordinal) ? "Gamma" : "parameters", ex.ParamName);
    }

    [Fact]
    public void GammaZero_OfAChannel_NamesTheChannel()
    {
        var ml = new MLContext(seed: 1);
        var p = BatchNormalizationParameters.ForChannels("Image", null, ChannelLayout.ChannelsFirst, [0.5, 0.5, 0.5], [0.1, 0.1, 0.1], gamma: [1.0, 1.0, 0.0]);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.InverseBatchNormalize("Image", null, p));

        Assert.Contains("gamma[2] (channel 2) is 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_KeepsTheInputsTypeDimensionsAndSlotNames_ButIsNotNormalized()
    {
        var ml = new MLContext(seed: 1);
        var p = BatchNormalizationParameters.ForChannels("N", "Pixels", ChannelLayout.ChannelsLast, [1.0, 2.0], [1.0, 4.0]);
        var schema = SchemaDefinition.Create(typeof(ImageData.DoubleRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Double, 2, 3, 2);
        schema[0].AddAnnotation("SlotNames", new VBuffer<ReadOnlyMemory<char>>(12, [.. Enumerable.Range(0, 12).Select(i => $"s{i}".AsMemory())]),
            new VectorDataViewType(TextDataViewType.Instance, 12));
        var data = ml.Data.LoadFromEnumerable(new[] { new ImageData.DoubleRow { Pixels = new double[12] } }, schema);
        var normalized = ml.Transforms.BatchNormalize(p).Fit(data).Transform(data);
        var estimator = ml.Transforms.InverseBatchNormalize("Restored", "N", p);

        var shape = estimator.GetOutputSchema(Shapes.Of(normalized.Schema)).Single(c => c.Name == "Restored");
        var output = estimator.Fit(normalized).GetOutputSchema(normalized.Schema)["Restored"];

        Assert.Equal(schema[0].ColumnType, output.Type); // Vector<Double, 2, 3, 2>, dimensions too
        Assert.Equal(["SlotNames"], output.Annotations.Schema.Select(a => a.Name));
        Assert.False(output.IsNormalized());
        Assert.True(normalized.Schema["N"].IsNormalized());
        VBuffer<ReadOnlyMemory<char>> names = default;
        output.GetSlotNames(ref names);
        Assert.Equal("s11", names.GetItemOrDefault(11).ToString());
        Assert.Equal((SchemaShape.Column.VectorKind.Vector, (DataViewType)NumberDataViewType.Double), (shape.Kind, shape.ItemType));
        Assert.Equal(["SlotNames"], shape.Annotations.Select(a => a.Name));
    }

    [Fact]
    public void Fit_RefusesAVariableSizeVector_AndAnotherSlotCount()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.InverseBatchNormalize("Out", "Features", Known);

        var variable = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(TestData.Vectors(ml, [[1f, 2f, 3f]], 0)));
        var fourSlots = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(TestData.Vectors(ml, [[1f, 2f, 3f, 4f]], 4)));

        Assert.Contains("known-size vector", variable.Message, StringComparison.Ordinal);
        Assert.Contains("vector of Single or Double of size 3", fourSlots.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shapes.Of(TestData.Vectors(ml, [[1f]], 0).Schema)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sparse_ScaleOnlyStaysSparse_CenteredFillsTheImplicitZeros(bool centered)
    {
        var ml = new MLContext(seed: 1);
        var p = centered
            ? new BatchNormalizationParameters("N", "Features", [10.0, 20.0, 30.0, 40.0], [4.0, 4.0, 4.0, 4.0], gamma: [4.0], beta: [1.0], epsilon: 0)
            : BatchNormalizationParameters.ForScaleOnly("N", "Features", [4.0, 4.0, 4.0, 4.0], gamma: [4.0], epsilon: 0);
        var data = SparseData.Floats(ml, [([1, 3], [5.0, -3.0])], 4, sparse: true);

        var output = SparseData.Read<float>(ml.Transforms.InverseBatchNormalize("Out", "Features", p).Fit(data).Transform(data), "Out").Single();

        if (centered)
        {
            Assert.True(output.IsDense);
            Assert.Equal([9.5f, 22f, 29.5f, 38f], output.DenseValues()); // (y - 1) * 2 / 4 + mean
        }
        else
        {
            Assert.False(output.IsDense);
            Assert.Equal([1, 3], output.GetIndices().ToArray());
            Assert.Equal([2.5f, -1.5f], output.GetValues().ToArray()); // y * 2 / 4
        }
    }

    [Fact]
    public void PredictionEngine_MapsAScoreBack()
    {
        var ml = new MLContext(seed: 1);
        var p = new BatchNormalizationParameters("Label", null, [1000.0], [2500.0], epsilon: 0); // sigma 50
        var inverse = ml.Transforms.InverseBatchNormalize("Price", "Score", p).Fit(ml.Data.LoadFromEnumerable(Array.Empty<ScoreRow>()));

        using var engine = ml.Model.CreatePredictionEngine<ScoreRow, PriceRow>(inverse);

        Assert.Equal(1100f, engine.Predict(new ScoreRow { Score = 2f }).Price);
        Assert.Equal(975f, engine.Predict(new ScoreRow { Score = -0.5f }).Price);
    }

    private sealed class ScoreRow
    {
        public float Score { get; set; }
    }

    private sealed class PriceRow
    {
        public float Price { get; set; }
    }
}
