using Microsoft.ML;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Catalog;

/// <summary>
/// What ML.NET users write first: one column with options, <c>BatchNormalize("Features", options)</c> and
/// <c>BatchNormalize("Out", "Features", options)</c> (likewise Dropout). Each is the column-pair overload with one pair,
/// and the short overloads bind as before.
/// </summary>
public class OneColumnWithOptionsTests
{
    private const int Slots = 4;

    [Fact]
    public void BatchNormalize_OneColumnWithOptions_Fits()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 8, Momentum = null, Gamma = [2.0], Beta = [0.5] };

        var model = ml.Transforms.BatchNormalize("Features", options).Fit(data);
        var expected = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data);

        var p = Assert.Single(model.Columns);
        Assert.Equal(("Features", "Features"), (p.OutputColumnName, p.InputColumnName));
        Assert.Equal(expected.Columns[0].RunningMean, p.RunningMean);
        Assert.Equal(expected.Columns[0].RunningVariance, p.RunningVariance);
        Assert.Equal([2.0, 2.0, 2.0, 2.0], p.Gamma);
        Assert.Equal(ModelIo.Dump(expected.Transform(data)), ModelIo.Dump(model.Transform(data)));
    }

    [Fact]
    public void BatchNormalize_OutputInputAndOptions_Fits()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 8, WholeDataStatistics = true };

        var model = ml.Transforms.BatchNormalize("Out", "Features", options).Fit(data);
        var expected = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], options).Fit(data);

        var p = Assert.Single(model.Columns);
        Assert.Equal(("Out", "Features"), (p.OutputColumnName, p.InputColumnName));
        Assert.Equal(ModelIo.Dump(expected.Transform(data)), ModelIo.Dump(model.Transform(data)));
    }

    [Fact]
    public void BatchNormalize_OneColumnWithOptions_NullInputColumn_MeansTheOutputColumn()
    {
        var ml = new MLContext(seed: 1);

        var p = ml.Transforms.BatchNormalize("Features", null, new BatchNormalizingEstimator.Options { BatchSize = 8 }).Fit(Data(ml)).Columns[0];

        Assert.Equal(("Features", "Features"), (p.OutputColumnName, p.InputColumnName));
    }

    [Fact]
    public void BatchNormalize_OneColumnWithOptions_RefusesNullOptionsAndOptionsOutOfRange_NamingThem()
    {
        var ml = new MLContext(seed: 1);

        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => ml.Transforms.BatchNormalize("Features", (BatchNormalizingEstimator.Options)null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => ml.Transforms.BatchNormalize("Out", "Features", null!)).ParamName);
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.BatchNormalize("Features", new BatchNormalizingEstimator.Options { BatchSize = 1 })).ParamName);
        Assert.Equal("Momentum", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.BatchNormalize("Out", "Features", new BatchNormalizingEstimator.Options { Momentum = 1 })).ParamName);
    }

    [Fact]
    public void BatchNormalize_Options_AreCopied_LaterChangesDoNotReachTheEstimator()
    {
        var ml = new MLContext(seed: 1);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 8, Gamma = [2.0] };
        var estimator = ml.Transforms.BatchNormalize("Features", options);

        options.Gamma[0] = 3.0;
        options.BatchSize = 1;
        var p = estimator.Fit(Data(ml)).Columns[0];

        Assert.All(p.Gamma, g => Assert.Equal(2.0, g));
    }

    [Fact]
    public void BatchNormalize_ShortOverloads_BindAsBefore()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);

        var inPlace = ml.Transforms.BatchNormalize("Features", batchSize: 8).Fit(data).Columns[0];
        var typedNull = ml.Transforms.BatchNormalize("Features", (string?)null, batchSize: 8).Fit(data).Columns[0];
        var pair = ml.Transforms.BatchNormalize("Out", "Features").Fit(data).Columns[0];

        Assert.Equal(("Features", "Features"), (inPlace.OutputColumnName, inPlace.InputColumnName));
        Assert.Equal(inPlace.RunningMean, typedNull.RunningMean);
        Assert.Equal(("Out", "Features"), (pair.OutputColumnName, pair.InputColumnName));
    }

    [Fact]
    public void Dropout_OneColumnWithOptions_Fits()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var options = new DropoutEstimator.Options { DropProbability = 0.25f, Seed = 3, Kind = DropoutKind.Standard };

        var model = ml.Transforms.Dropout("Features", options).Fit(data);
        var expected = ml.Transforms.Dropout([new InputOutputColumnPair("Features")], options).Fit(data);

        Assert.Equal(("Features", "Features"), (model.ColumnPairs[0].OutputColumnName, model.ColumnPairs[0].InputColumnName));
        Assert.Equal((0.25f, 3, DropoutKind.Standard), (model.DropProbability, model.Seed, model.Kind));
        Assert.Equal(ModelIo.Dump(expected.TransformForTraining(data)), ModelIo.Dump(model.TransformForTraining(data)));
    }

    [Fact]
    public void Dropout_OutputInputAndOptions_Fits()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var options = new DropoutEstimator.Options { DropProbability = 0.5f, Seed = 9 };

        var model = ml.Transforms.Dropout("Out", "Features", options).Fit(data);
        var inPlace = ml.Transforms.Dropout("Features", null, options).Fit(data);

        Assert.Equal(("Out", "Features"), (model.ColumnPairs[0].OutputColumnName, model.ColumnPairs[0].InputColumnName));
        Assert.Equal(("Features", "Features"), (inPlace.ColumnPairs[0].OutputColumnName, inPlace.ColumnPairs[0].InputColumnName));
        Assert.Equal(0.5f, model.DropProbability);
        Assert.Equal(9, model.Seed);
    }

    [Fact]
    public void Dropout_OneColumnWithOptions_RefusesNullOptionsAndOptionsOutOfRange_NamingThem()
    {
        var ml = new MLContext(seed: 1);

        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => ml.Transforms.Dropout("Features", (DropoutEstimator.Options)null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => ml.Transforms.Dropout("Out", "Features", null!)).ParamName);
        Assert.Equal("DropProbability", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.Dropout("Features", new DropoutEstimator.Options { DropProbability = 1f })).ParamName);
    }

    [Fact]
    public void Dropout_ShortOverloads_BindAsBefore()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);

        var inPlace = ml.Transforms.Dropout("Features", dropProbability: 0.2f, seed: 1).Fit(data);
        var pair = ml.Transforms.Dropout("Out", "Features").Fit(data);

        Assert.Equal((0.2f, 1), (inPlace.DropProbability, inPlace.Seed));
        Assert.Equal(("Out", "Features", 0.5f), (pair.ColumnPairs[0].OutputColumnName, pair.ColumnPairs[0].InputColumnName, pair.DropProbability));
    }

    private static IDataView Data(MLContext ml) => TestData.Vectors(ml, TestData.Random(seed: 8, rows: 40, size: Slots, mean: 2, std: 3), Slots);
}
