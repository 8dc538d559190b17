using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>Bad input fails early, at GetOutputSchema/Fit, with ML.NET's wording; the messages are part of the API.</summary>
public class BatchNormalizingValidationTests
{
    private sealed class MixedRow
    {
        public int Count { get; set; }

        public string Text { get; set; } = "";

        public float[] Variable { get; set; } = [];

        public float Value { get; set; }
    }

    private static readonly MLContext Ml = new(seed: 1);

    private static IDataView Mixed() => Ml.Data.LoadFromEnumerable(new[] { new MixedRow { Variable = [1f] }, new MixedRow { Variable = [2f, 3f] } });

    [Theory]
    [InlineData("Missing", "Could not find input column 'Missing'")]
    [InlineData("Count", "Schema mismatch for input column 'Count': expected Single or Double, scalar or known-size vector, got Int32")]
    [InlineData("Text", "Schema mismatch for input column 'Text': expected Single or Double, scalar or known-size vector, got String")]
    [InlineData("Variable", "Schema mismatch for input column 'Variable': expected Single or Double, scalar or known-size vector, got Vector<Single>")]
    public void Fit_BadColumn_ThrowsSchemaMismatch(string column, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Transforms.BatchNormalize("Out", column).Fit(Mixed()));
        Assert.Equal("input", ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Theory]
    [InlineData("Missing", "Could not find input column 'Missing'")]
    [InlineData("Count", "Schema mismatch for input column 'Count': expected Single or Double, scalar or known-size vector, got Int32")]
    [InlineData("Variable", "Schema mismatch for input column 'Variable': expected Single or Double, scalar or known-size vector, got VarVector<Single>")]
    public void GetOutputSchema_BadColumn_ThrowsSchemaMismatch(string column, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Transforms.BatchNormalize("Out", column).GetOutputSchema(Shapes.Of(Mixed().Schema)));
        Assert.Equal("inputSchema", ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void Transformer_InputWithOtherSlotCount_ThrowsSchemaMismatch()
    {
        var model = Ml.Transforms.BatchNormalize("Features").Fit(TestData.Vectors(Ml, TestData.Random(1, 10, 3), 3));
        var other = TestData.Vectors(Ml, TestData.Random(1, 10, 4), 4);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(other));
        Assert.StartsWith("Schema mismatch for input column 'Features': expected vector of Single or Double of size 3, got Vector<Single, 4>", ex.Message);
    }

    public static TheoryData<int, float, float, string, string, string> ShortOverloadArgumentsOutOfRange => new()
    {
        { 1, 0.9f, 1e-5f, "batchSize", "'batchSize' must be at least 2, got 1.", "1" },
        { -3, 0.9f, 1e-5f, "batchSize", "'batchSize' must be at least 2, got -3.", "-3" },
        { 8, 1f, 1e-5f, "momentum", "'momentum' must be in [0, 1) or null, got 1.", "1" },
        { 8, -0.5f, 1e-5f, "momentum", "'momentum' must be in [0, 1) or null, got -0.5.", "-0.5" },
        { 8, float.NaN, 1e-5f, "momentum", "'momentum' must be in [0, 1) or null, got NaN.", "NaN" },
        { 8, 0.9f, 0f, "epsilon", "'epsilon' must be positive and finite, got 0.", "0" },
        { 8, 0.9f, float.NaN, "epsilon", "'epsilon' must be positive and finite, got NaN.", "NaN" },
        { 8, 0.9f, float.PositiveInfinity, "epsilon", $"'epsilon' must be positive and finite, got {float.PositiveInfinity}.", $"{float.PositiveInfinity}" }, // "Infinity" or "\u221e", by culture
    };

    [Theory]
    [MemberData(nameof(ShortOverloadArgumentsOutOfRange))]
    public void Catalog_SingleColumn_ArgumentOutOfRange_NamesTheArgument(int batchSize, float momentum, float epsilon, string param, string message, string actual)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Transforms.BatchNormalize("Features", batchSize: batchSize, momentum: momentum, epsilon: epsilon));
        Assert.Equal(param, ex.ParamName);
        Assert.Equal($"{message} (Parameter '{param}'){Environment.NewLine}Actual value was {actual}.", ex.Message);
    }

    [Theory]
    [MemberData(nameof(ShortOverloadArgumentsOutOfRange))]
    public void Catalog_ColumnPairs_ArgumentOutOfRange_NamesTheArgument(int batchSize, float momentum, float epsilon, string param, string message, string actual)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], batchSize, momentum, epsilon));
        Assert.Equal(param, ex.ParamName);
        Assert.Equal($"{message} (Parameter '{param}'){Environment.NewLine}Actual value was {actual}.", ex.Message);
    }

    [Theory]
    [InlineData(1, 0.9f, 1e-5f, "BatchSize", "'BatchSize' must be at least 2, got 1.", "1")]
    [InlineData(8, 1f, 1e-5f, "Momentum", "'Momentum' must be in [0, 1) or null, got 1.", "1")]
    [InlineData(8, 0.9f, 0f, "Epsilon", "'Epsilon' must be positive and finite, got 0.", "0")]
    public void Catalog_Options_OptionOutOfRange_NamesTheOption(int batchSize, float momentum, float epsilon, string param, string message, string actual)
    {
        var options = new BatchNormalizingEstimator.Options { BatchSize = batchSize, Momentum = momentum, Epsilon = epsilon };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options));
        Assert.Equal(param, ex.ParamName);
        Assert.Equal($"{message} (Parameter '{param}'){Environment.NewLine}Actual value was {actual}.", ex.Message);
    }

    [Fact]
    public void Fit_GammaOfWrongLength_NamesTheOption()
    {
        var options = new BatchNormalizingEstimator.Options { Gamma = [1f, 2f] };
        var estimator = Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options);
        var ex = Assert.Throws<ArgumentException>(() => estimator.Fit(TestData.Vectors(Ml, TestData.Random(1, 10, 3), 3)));
        Assert.Equal("Gamma", ex.ParamName);
        Assert.StartsWith("'Gamma' must have 1 value or one per slot (3), got 2.", ex.Message);
    }

    [Fact]
    public void Fit_FewerThanTwoRows_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Ml.Transforms.BatchNormalize("Features").Fit(TestData.Vectors(Ml, TestData.Random(1, 1, 3), 3)));
        Assert.Equal("BatchNormalize needs at least 2 rows to fit its statistics; the training data has 1.", ex.Message);
    }

    [Fact]
    public void KnownParameters_NegativeVariance_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalizationParameters("Out", null, [0f, 0f], [1f, -1f]));
        Assert.Equal("runningVariance", ex.ParamName);
        Assert.StartsWith("'runningVariance[1]' must be finite and not negative, got -1.", ex.Message);
    }

    [Fact]
    public void KnownParameters_LengthMismatch_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new BatchNormalizationParameters("Out", null, [0f, 0f], [1f]));
        Assert.Equal("runningVariance", ex.ParamName);
    }
}
