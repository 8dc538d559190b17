using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// Data loaded from a user's objects is read from their arrays, not through ML.NET's getter (InMemoryRows): the fit and
/// the transform give the same bits as through the getters (the same rows behind a view that only has getters), in
/// every layout, with NaN and infinities, on one thread and on two (whose chunks are then even slices of the array),
/// leave the user's arrays unchanged, and refuse an array of the wrong length as the getter path does.
/// </summary>
public class UsersArraysTests
{
    private const int Rows = 203, BatchSize = 16;

    public sealed class Row
    {
        public float[] Features { get; set; } = [];
    }

    public sealed class DoubleRow
    {
        public double[] Features = [];
    }

    public static TheoryData<ChannelLayout, bool, int> Cases()
    {
        var data = new TheoryData<ChannelLayout, bool, int>();
        foreach (var layout in new[] { ChannelLayout.None, ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast })
        {
            foreach (bool wholeData in new[] { false, true })
            {
                foreach (int slots in new[] { 3, 27, 3 * 64 })
                {
                    data.Add(layout, wholeData, slots);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fit_FromUsersArrays_EqualsTheFitThroughGetters_BitForBit(ChannelLayout layout, bool wholeData, int slots)
    {
        var ml = new MLContext(seed: 1);
        var (view, _) = Singles(ml, slots, layout);
        var options = Options(layout, wholeData);

        var direct = Fit(ml, view, options);
        var throughGetters = Fit(ml, new RowRangeView(view, 0, Rows), options);

        Assert.Equal(throughGetters.RunningMean, direct.RunningMean);
        Assert.Equal(throughGetters.RunningVariance, direct.RunningVariance);
        Assert.Equal((throughGetters.BatchCount, throughGetters.RowCount), (direct.BatchCount, direct.RowCount));
    }

    [Fact]
    public void Fit_FromUsersDoubleArrays_InAField_EqualsTheFitThroughGetters_BitForBit()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(5);
        var rows = Enumerable.Range(0, Rows).Select(i => new DoubleRow { Features = [.. Enumerable.Range(0, 11).Select(j => i == 7 && j == 2 ? double.NaN : 1e6 + (j * random.NextDouble()))] }).ToArray();
        var schema = SchemaDefinition.Create(typeof(DoubleRow));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Double, 11);
        var view = ml.Data.LoadFromEnumerable(rows, schema);

        var direct = Fit(ml, view, Options(ChannelLayout.None, wholeData: false));
        var throughGetters = Fit(ml, new RowRangeView(view, 0, Rows), Options(ChannelLayout.None, wholeData: false));

        Assert.Equal(throughGetters.RunningMean, direct.RunningMean);
        Assert.Equal(throughGetters.RunningVariance, direct.RunningVariance);
    }

    [Theory]
    [InlineData(ChannelLayout.None)]
    [InlineData(ChannelLayout.ChannelsFirst)]
    public void Fit_OnTwoThreads_FromUsersArrays_EqualsTheSerialFit_Within1e12(ChannelLayout layout)
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
        var (view, _) = Singles(ml, 27, layout);
        var options = Options(layout, wholeData: false);
        var serial = Fit(ml, view, options);
        options.NumberOfThreads = 2;

        var parallel = Fit(ml, view, options);

        double scale = serial.RunningMean.Max(Math.Abs) + Math.Sqrt(serial.RunningVariance.Max());
        Approx.Equal([.. serial.RunningMean], [.. parallel.RunningMean], 1e-12, 1e-12 * scale, "mean");
        Approx.Equal([.. serial.RunningVariance], [.. parallel.RunningVariance], 1e-12, 0, "variance");
        Assert.Equal(serial.RowCount, parallel.RowCount);
        Assert.Contains(messages, m => m.Contains("on 2 threads", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_OfOneObjectRewrittenBetweenRows_ByAnEnumerator_EqualsTheFitOfTheRowsApart()
    {
        // An enumerator may hand out one object again and again, rewritten: the fit must not keep a row past the next.
        var ml = new MLContext(seed: 1);
        var (view, rows) = Singles(ml, 27, ChannelLayout.None);
        IEnumerable<Row> Rewritten()
        {
            var row = new Row { Features = new float[27] };
            foreach (var r in rows)
            {
                r.Features.CopyTo(row.Features, 0);
                yield return row;
            }
        }

        var rewritten = ml.Data.LoadFromEnumerable(Rewritten(), Schema(27, ChannelLayout.None));
        var options = Options(ChannelLayout.None, wholeData: false);

        var expected = Fit(ml, view, options);
        var actual = Fit(ml, rewritten, options);

        Assert.Equal(expected.RunningMean, actual.RunningMean);
        Assert.Equal(expected.RunningVariance, actual.RunningVariance);
    }

    [Theory]
    [InlineData(ChannelLayout.None, 3)]
    [InlineData(ChannelLayout.None, 67)]
    [InlineData(ChannelLayout.ChannelsFirst, 27)]
    [InlineData(ChannelLayout.ChannelsLast, 27)]
    public void Transform_FromUsersArrays_EqualsTheTransformThroughGetters_AndLeavesThemUnchanged(ChannelLayout layout, int slots)
    {
        var ml = new MLContext(seed: 1);
        var (view, rows) = Singles(ml, slots, layout);
        var copies = rows.Select(r => (float[])r.Features.Clone()).ToArray();
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], Options(layout, wholeData: false)).Fit(view);

        var direct = TestData.ReadVectors(model.Transform(view), "Out");
        var throughGetters = TestData.ReadVectors(model.Transform(new RowRangeView(view, 0, Rows)), "Out");

        Assert.Equal(throughGetters, direct);
        Assert.Equal(copies, rows.Select(r => r.Features));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(67)]
    public void ScaleOnlyTransform_FromUsersArrays_EqualsTheTransformThroughGetters_AndLeavesThemUnchanged(int slots)
    {
        var ml = new MLContext(seed: 1);
        var (view, rows) = Singles(ml, slots, ChannelLayout.None);
        var copies = rows.Select(r => (float[])r.Features.Clone()).ToArray();
        var options = Options(ChannelLayout.None, wholeData: false);
        options.Center = false;
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], options).Fit(view);

        var direct = TestData.ReadVectors(model.Transform(view), "Out");
        var throughGetters = TestData.ReadVectors(model.Transform(new RowRangeView(view, 0, Rows)), "Out");

        Assert.Equal(throughGetters, direct);
        Assert.Equal(copies, rows.Select(r => r.Features));
    }

    [Fact]
    public void Transform_FromUsersArrays_GivesEachRowItsOwnBuffer_WhenTheCallerPassesAFreshOne()
    {
        var ml = new MLContext(seed: 1);
        var (view, _) = Singles(ml, 9, ChannelLayout.None);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], Options(ChannelLayout.None, wholeData: false)).Fit(view);
        var output = model.Transform(view);
        using var cursor = output.GetRowCursor(output.Schema);
        var getter = cursor.GetGetter<VBuffer<float>>(output.Schema["Out"]);

        var seen = new List<float[]>();
        VBuffer<float> reused = default;
        while (cursor.MoveNext())
        {
            VBuffer<float> fresh = default;
            getter(ref fresh);
            getter(ref reused);
            Assert.Equal(fresh.DenseValues(), reused.DenseValues());
            seen.Add(fresh.DenseValues().ToArray());
        }

        Assert.Equal(TestData.ReadVectors(model.Transform(new RowRangeView(view, 0, Rows)), "Out"), seen);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(0)]
    [InlineData(-1)] // a null array: an empty vector, as ML.NET's getter gives it
    public void FitAndTransform_OfAnArrayOfTheWrongLength_AreRefused_NamingTheColumn(int length)
    {
        var ml = new MLContext(seed: 1);
        var (view, rows) = Singles(ml, 9, ChannelLayout.None);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], Options(ChannelLayout.None, wholeData: false)).Fit(view);
        var scaleOnlyOptions = Options(ChannelLayout.None, wholeData: false);
        scaleOnlyOptions.Center = false;
        var scaleOnly = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], scaleOnlyOptions).Fit(view);
        rows[40].Features = length < 0 ? null! : new float[length];

        var fit = Assert.Throws<InvalidOperationException>(() => Fit(ml, view, Options(ChannelLayout.None, wholeData: false)));
        var transform = Assert.Throws<InvalidOperationException>(() => TestData.ReadVectors(model.Transform(view), "Out"));
        var scaleOnlyTransform = Assert.Throws<InvalidOperationException>(() => TestData.ReadVectors(scaleOnly.Transform(view), "Out"));

        foreach (var error in new[] { fit, transform, scaleOnlyTransform })
        {
            Assert.Contains("'Features'", error.Message);
            Assert.Contains($"{Math.Max(length, 0)} slots", error.Message);
        }
    }

    private static BatchNormalizationParameters Fit(MLContext ml, IDataView view, BatchNormalizingEstimator.Options options) =>
        ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(view).Columns[0];

    private static BatchNormalizingEstimator.Options Options(ChannelLayout layout, bool wholeData) =>
        new() { BatchSize = BatchSize, ChannelLayout = layout, WholeDataStatistics = wholeData };

    // Values near 1e4 with a spread of a few units (the shifts matter), one NaN and one infinity in rows of their own.
    private static (IDataView View, Row[] Rows) Singles(MLContext ml, int slots, ChannelLayout layout)
    {
        var random = new Random(slots);
        var rows = Enumerable.Range(0, Rows).Select(i => new Row
        {
            Features = [.. Enumerable.Range(0, slots).Select(j => i == 33 && j == 1 ? float.NaN : i == 90 && j == 0 ? float.PositiveInfinity : (float)(1e4 + (j % 5) + (3 * random.NextDouble())))],
        }).ToArray();
        return (ml.Data.LoadFromEnumerable(rows, Schema(slots, layout)), rows);
    }

    private static SchemaDefinition Schema(int slots, ChannelLayout layout)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Features"].ColumnType = layout switch
        {
            ChannelLayout.ChannelsFirst => new VectorDataViewType(NumberDataViewType.Single, 3, slots / 3),
            ChannelLayout.ChannelsLast => new VectorDataViewType(NumberDataViewType.Single, slots / 3, 3),
            _ => new VectorDataViewType(NumberDataViewType.Single, slots),
        };
        return schema;
    }
}
