using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.Dropout;

public class DropoutStageTests
{
    private const int Rows = 2000;
    private const int Slots = 25;

    private static float[][] Data(int seed = 1) => TestData.Random(seed, Rows, Slots, mean: 2, std: 1);

    [Fact]
    public void Transform_Scoring_IsExactlyTheIdentity()
    {
        var ml = new MLContext(seed: 1);
        var rows = Data();
        var data = TestData.Vectors(ml, rows, Slots);
        var model = ml.Transforms.Dropout("Out", "Features", dropProbability: 0.5f).Fit(data);
        Assert.Equal(rows, TestData.ReadVectors(model.Transform(data), "Out"));
    }

    [Fact]
    public void Transform_Scoring_StandardDropout_ScalesByOneMinusP()
    {
        var ml = new MLContext(seed: 1);
        var rows = Data();
        var data = TestData.Vectors(ml, rows, Slots);
        var options = new DropoutEstimator.Options { DropProbability = 0.25f, Kind = DropoutKind.Standard, Seed = 3 };
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Features")], options).Fit(data);
        var output = TestData.ReadVectors(model.Transform(data), "Out");
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(rows[i].Select(x => x * 0.75f), output[i]);
        }
    }

    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.8f)]
    public void TrainingPass_DropsNearP_ScalesKeptValuesByOneOverOneMinusP_AndPreservesTheMean(float p)
    {
        var ml = new MLContext(seed: 1);
        var rows = Data();
        var model = ml.Transforms.Dropout("Out", "Features", p, seed: 11).Fit(TestData.Vectors(ml, rows, Slots));
        var output = TestData.ReadVectors(model.TransformForTraining(TestData.Vectors(ml, rows, Slots)), "Out");

        float scale = (float)(1.0 / (1.0 - p));
        long dropped = 0, n = (long)Rows * Slots;
        double sumX = 0, sumY = 0;
        for (int i = 0; i < Rows; i++)
        {
            for (int j = 0; j < Slots; j++)
            {
                if (output[i][j] == 0f)
                {
                    dropped++;
                }
                else
                {
                    Assert.Equal(rows[i][j] * scale, output[i][j]);
                }

                sumX += rows[i][j];
                sumY += output[i][j];
            }
        }

        double se = Math.Sqrt(p * (1 - p) / n);
        Assert.InRange((double)dropped / n, p - (4 * se), p + (4 * se));
        double meanSe = Math.Sqrt(p / (1 - p) * 5.0 / n); // E[x^2] = 5 for N(2, 1)
        Assert.InRange((sumY - sumX) / n, -4 * meanSe, 4 * meanSe);
    }

    [Fact]
    public void TrainingPass_EachCursorIsANewPass_AndSeedsReproduce()
    {
        var rows = Data();
        List<float[]> Pass(MLContext ml, int? seed, int passes)
        {
            var model = ml.Transforms.Dropout("Out", "Features", 0.5f, seed).Fit(TestData.Vectors(ml, rows, Slots));
            var view = model.TransformForTraining(TestData.Vectors(ml, rows, Slots));
            List<float[]> last = [];
            for (int k = 0; k < passes; k++)
            {
                last = TestData.ReadVectors(view, "Out");
            }

            return last;
        }

        var first = Pass(new MLContext(1), 5, 1);
        var second = Pass(new MLContext(2), 5, 2);
        Assert.Equal(first, Pass(new MLContext(3), 5, 1));                 // same seed, same pass: same masks
        int differing = first.Zip(second).Sum(r => r.First.Zip(r.Second).Count(v => (v.First == 0f) != (v.Second == 0f)));
        double expected = 0.5 * Rows * Slots, sd = Math.Sqrt(Rows * Slots * 0.25);
        Assert.InRange(differing, expected - (4 * sd), expected + (4 * sd)); // a new pass: independent masks

        Assert.Equal(Pass(new MLContext(seed: 7), null, 1), Pass(new MLContext(seed: 7), null, 1)); // seed from the MLContext
        Assert.NotEqual(Pass(new MLContext(seed: 7), null, 1), Pass(new MLContext(seed: 8), null, 1));
    }

    [Fact]
    public void TrainingPass_TwoColumnsOfOneStage_GetIndependentMasks_TheFirstAsAlone()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, Data(), Slots);
        var both = ml.Transforms.Dropout([new InputOutputColumnPair("A", "Features"), new InputOutputColumnPair("B", "Features")], new DropoutEstimator.Options { DropProbability = 0.5f, Seed = 3 }).Fit(data);
        var alone = ml.Transforms.Dropout("A", "Features", 0.5f, seed: 3).Fit(data);

        var view = both.TransformForTraining(data);
        var a = TestData.ReadVectors(view, "A");
        var b = TestData.ReadVectors(both.TransformForTraining(data), "B");
        Assert.Equal(TestData.ReadVectors(alone.TransformForTraining(data), "A"), a);

        // Independent masks over the same values: each slot dropped in exactly one of A and B about half the time.
        int differing = a.Zip(b).Sum(r => r.First.Zip(r.Second).Count(v => (v.First == 0f) != (v.Second == 0f)));
        double expected = 0.5 * Rows * Slots, sd = Math.Sqrt(Rows * Slots * 0.25);
        Assert.InRange(differing, expected - (4 * sd), expected + (4 * sd));
    }

    [Fact]
    public void TrainingPass_CursorSet_GivesTheSameValuesAsOneCursor()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(TestData.Vectors(ml, Data(), Slots));
        var model = ml.Transforms.Dropout("Out", "Features", 0.3f, seed: 2).Fit(data);
        var expected = TestData.ReadVectors(model.TransformForTraining(data), "Out"); // pass 0 of one view

        var seen = TestData.ReadByRowIdInParallel(model.TransformForTraining(data), "Out", 4); // pass 0 of another view
        Assert.Equal(expected, Enumerable.Range(0, expected.Count).Select(i => seen[i]));
    }

    [Fact]
    public void ZeroP_IsTheIdentity_InTrainingToo()
    {
        var ml = new MLContext(seed: 1);
        var rows = Data();
        var model = ml.Transforms.Dropout("Out", "Features", 0f).Fit(TestData.Vectors(ml, rows, Slots));
        Assert.Equal(rows, TestData.ReadVectors(model.TransformForTraining(TestData.Vectors(ml, rows, Slots)), "Out"));
    }

    [Fact]
    public void SparseAndVariableSizeInput_DroppedImplicitZerosStayZero()
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 500).Select(i => new SparseRow
        {
            Features = new VBuffer<float>(10 + (i % 5), 2, [1f + i, 2f], [1, 7]),
        }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        Assert.Equal(0, ((VectorDataViewType)data.Schema["Features"].Type).Size); // variable size
        var model = ml.Transforms.Dropout("Out", "Features", 0.5f, seed: 4).Fit(data);
        var view = model.TransformForTraining(data);
        var column = view.Schema["Out"];
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        int kept = 0;
        for (int i = 0; cursor.MoveNext(); i++)
        {
            getter(ref buffer);
            Assert.False(buffer.IsDense);
            Assert.Equal(10 + (i % 5), buffer.Length);
            Assert.Equal([1, 7], buffer.GetIndices().ToArray());
            var values = buffer.GetValues();
            Assert.True(values[0] == 0f || values[0] == (1f + i) * 2f);
            Assert.True(values[1] == 0f || values[1] == 4f);
            kept += (values[0] != 0f ? 1 : 0) + (values[1] != 0f ? 1 : 0);
        }

        Assert.InRange(kept, 500 - (4 * 15.8), 500 + (4 * 15.8)); // 1000 values, p = 0.5: sd 15.8
    }

    [Fact]
    public void InEstimatorChain_TheNextStageTrainsOnDroppedValues_WhileScoringIsUntouched()
    {
        var ml = new MLContext(seed: 1);
        var rows = Data();
        var data = TestData.Vectors(ml, rows, Slots);
        var recorder = new RecordingEstimator(ml, "Features");
        var model = ml.Transforms.Dropout("Features", dropProbability: 0.5f, seed: 9).Append(recorder).Fit(data);

        double zeros = recorder.Seen.Sum(r => r.Count(v => v == 0f)) / (double)(Rows * Slots);
        Assert.InRange(zeros, 0.5 - (4 * 0.0022), 0.5 + (4 * 0.0022));
        Assert.Equal(rows, TestData.ReadVectors(model.Transform(data), "Features"));
    }

    [Fact]
    public void DropoutThenSdca_Trains_AndTheReloadedModelPredictsAsTheInMemoryOne()
    {
        var ml = new MLContext(seed: 1);
        var rows = Data();
        var data = ml.Data.LoadFromEnumerable(rows.Select((r, i) => new LabeledRow { Features = r, Label = r[0] + r[1] > 4 }).ToArray(), LabeledRow.Schema());
        var model = ml.Transforms.Dropout("Features", dropProbability: 0.3f)
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(maximumNumberOfIterations: 10))
            .Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out _);

        var expected = model.Transform(data).GetColumn<float>("Probability").ToArray();
        Assert.Equal(expected, loaded.Transform(data).GetColumn<float>("Probability").ToArray());
        Assert.InRange(expected.Zip(rows).Average(p => (p.First > 0.5f) == (p.Second[0] + p.Second[1] > 4) ? 1.0 : 0.0), 0.8, 1.0);
    }

    [Theory]
    [InlineData(-0.1f, "-0.1")]
    [InlineData(1f, "1")]
    [InlineData(float.NaN, "NaN")]
    public void Catalog_POutsideZeroOne_NamesTheArgument_InBothShortOverloads(float p, string actual)
    {
        var message = $"'dropProbability' must be in [0, 1), got {actual}. (Parameter 'dropProbability'){Environment.NewLine}Actual value was {actual}.";
        var single = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.Dropout("Features", dropProbability: p));
        var pairs = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.Dropout([new InputOutputColumnPair("Features")], dropProbability: p));
        Assert.Equal(("dropProbability", message), (single.ParamName, single.Message));
        Assert.Equal(("dropProbability", message), (pairs.ParamName, pairs.Message));
    }

    [Fact]
    public void Catalog_Options_POutsideZeroOne_NamesTheOption()
    {
        var options = new DropoutEstimator.Options { DropProbability = 1.5f };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.Dropout([new InputOutputColumnPair("Features")], options));
        Assert.Equal("DropProbability", ex.ParamName);
        Assert.Equal($"'DropProbability' must be in [0, 1), got 1.5. (Parameter 'DropProbability'){Environment.NewLine}Actual value was 1.5.", ex.Message);
    }

    [Fact]
    public void Fit_WrongColumnType_ThrowsSchemaMismatch()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new TextRow { Text = "a" } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.Dropout("Out", "Text").Fit(data));
        Assert.StartsWith("Schema mismatch for input column 'Text': expected Single or Double, scalar or vector, got String", ex.Message);
    }

    private sealed class LabeledRow
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }

        public static SchemaDefinition Schema()
        {
            var schema = SchemaDefinition.Create(typeof(LabeledRow));
            schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Slots);
            return schema;
        }
    }

    private sealed class SparseRow
    {
        public VBuffer<float> Features { get; set; }
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }
}
