using System.Globalization;
using Microsoft.ML;
using Ml.Normalization.Fitting;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms;

/// <summary>
/// The numbers a user gives read back as written. BatchNormalize's options and catalog arguments are double, as the
/// fitted parameters are, so an epsilon of 1e-5 is 1e-5 in <see cref="BatchNormalizationParameters.Epsilon"/> (a float
/// option made it 9.999999747378752E-06), and messages print 0.9, not 0.8999999761581421. Dropout's p is float end to
/// end (options, transformer, model), so 0.1 reads back as the 0.1 the user wrote.
/// </summary>
public class NumberRoundTripTests
{
    private const int Slots = 3;

    [Fact]
    public void Epsilon_FromOptions_ReadsBackExactly()
    {
        var ml = new MLContext(seed: 1);
        var p = Fit(ml, new BatchNormalizingEstimator.Options { Epsilon = 1e-5 });

        Assert.Equal(1e-5, p.Epsilon);
        Assert.Equal("1E-05", p.Epsilon.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Epsilon_ByDefault_IsExactly1e5()
    {
        var ml = new MLContext(seed: 1);

        Assert.Equal(1e-5, new BatchNormalizingEstimator.Options().Epsilon);
        Assert.Equal(1e-5, ml.Transforms.BatchNormalize("Features", batchSize: 4).Fit(Data(ml)).Columns[0].Epsilon);
        Assert.Equal(1e-5, new BatchNormalizationParameters("F", null, [0f], [1f]).Epsilon);
        Assert.Equal(1e-5, new BatchNormalizationParameters("F", null, [0.0], [1.0]).Epsilon);
    }

    [Fact]
    public void Epsilon_FromTheCatalogArgument_ReadsBackExactly()
    {
        var ml = new MLContext(seed: 1);

        var p = ml.Transforms.BatchNormalize("Features", batchSize: 4, epsilon: 1e-3).Fit(Data(ml)).Columns[0];

        Assert.Equal(1e-3, p.Epsilon);
    }

    [Fact]
    public void Epsilon_GivenWithFloatParameters_ReadsBackExactly()
    {
        // PyTorch's running statistics are float32 tensors, its eps a Python float (a double).
        var p = new BatchNormalizationParameters("Out", "Features", [0.5f, -1f], [2f, 0.25f], epsilon: 1e-5);

        Assert.Equal(1e-5, p.Epsilon);
        Assert.Equal([0.5, -1.0], p.RunningMean);
    }

    [Fact]
    public void Epsilon_SurvivesSaveAndLoad_Exactly()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { BatchSize = 4, Epsilon = 3e-7 }).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;

        var loaded = Assert.IsType<BatchNormalizingTransformer>(new MLContext(seed: 2).Model.Load(stream, out _));

        Assert.Equal(3e-7, loaded.Columns[0].Epsilon);
    }

    [Fact]
    public void GammaAndBeta_FromOptions_ReadBackExactly()
    {
        var ml = new MLContext(seed: 1);
        var p = Fit(ml, new BatchNormalizingEstimator.Options { Gamma = [0.1, 0.2, 0.3], Beta = [0.7] });

        Assert.Equal([0.1, 0.2, 0.3], p.Gamma);
        Assert.Equal([0.7, 0.7, 0.7], p.Beta);
    }

    [Fact]
    public void MomentumAndInitialValues_FromOptions_AreTheFitsOwn_Exactly()
    {
        var ml = new MLContext(seed: 1);
        var p = Fit(ml, new BatchNormalizingEstimator.Options { Momentum = 0.1, InitialRunningMean = 0.3, InitialRunningVariance = 0.7 });

        var state = Assert.IsType<FitState>(p.FitState);
        Assert.Equal(0.1, Assert.IsType<MomentumRule>(state.Rule).Momentum);
        Assert.All(state.InitialMean, v => Assert.Equal(0.3, v));
        Assert.All(state.InitialVariance, v => Assert.Equal(0.7, v));
        Assert.Equal(0.9, new BatchNormalizingEstimator.Options().Momentum);
    }

    [Fact]
    public void Momentum_InAnErrorMessage_PrintsAsWritten()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var previous = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { BatchSize = 4, Momentum = 0.1 }).Fit(data);
        var other = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { BatchSize = 4, Momentum = 0.3 });

        var ex = Assert.Throws<ArgumentException>(() => other.Fit(data, previous));

        Assert.StartsWith("The previous fit used Momentum = 0.1, this estimator 0.3;", ex.Message);
    }

    [Theory]
    [InlineData(-1e-5, "got -1E-05")]
    [InlineData(0.0, "got 0")]
    public void Epsilon_OutOfRange_ErrorPrintsTheValueAsWritten(double epsilon, string expected)
    {
        var ml = new MLContext(seed: 1);

        var fromOptions = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { Epsilon = epsilon }));
        var fromArgument = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.BatchNormalize("Features", epsilon: epsilon));

        Assert.Equal("Epsilon", fromOptions.ParamName);
        Assert.Equal("epsilon", fromArgument.ParamName);
        Assert.Contains(expected, fromOptions.Message, StringComparison.Ordinal);
        Assert.Contains(expected, fromArgument.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DropProbability_ReadsBackExactly_AlsoAfterSaveAndLoad()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var model = ml.Transforms.Dropout("Features", dropProbability: 0.1f, seed: 5).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;

        var loaded = Assert.IsType<DropoutTransformer>(new MLContext(seed: 2).Model.Load(stream, out _));

        Assert.Equal(0.1f, model.DropProbability);
        Assert.Equal(0.1f, loaded.DropProbability);
        Assert.Equal("0.1", loaded.DropProbability.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(0.1f, new DropoutEstimator.Options { DropProbability = 0.1f }.DropProbability);
    }

    private static BatchNormalizationParameters Fit(MLContext ml, BatchNormalizingEstimator.Options options)
    {
        options.BatchSize = 4;
        return ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(Data(ml)).Columns[0];
    }

    private static IDataView Data(MLContext ml) => ModelIo.ToView(ml, TestData.Random(seed: 31, rows: 12, size: Slots, mean: 1, std: 2));
}
