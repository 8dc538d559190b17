namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// Each way to build <see cref="BatchNormalizationParameters"/> refuses a bad argument naming the argument the caller
/// passed, and its index (<c>mean[1]</c>, <c>std[0]</c>), never a parameter of the constructor it delegates to.
/// </summary>
public class ParameterFactoryValidationTests
{
    private const string StdRange = "in [2^-511, 2^512), about 1.49e-154 to 1.34e154, so that its square (the variance) is a normal double";

    public static TheoryData<string> OutOfRangeCases => [.. OutOfRange.Keys];

    private static readonly Dictionary<string, (Func<object> Build, string Param, string Message, string Actual)> OutOfRange = new()
    {
        ["FromMeanAndStd, no channels"] = (() => FromMeanAndStd([], []), "mean", "'mean' must be at least one channel long, got 0.", "0"),
        ["FromMeanAndStd, NaN mean"] = (() => FromMeanAndStd([0.5, double.NaN], [0.2, 0.2]), "mean", "'mean[1]' must be finite, got NaN.", "NaN"),
        ["FromMeanAndStd, infinite mean"] = (() => FromMeanAndStd([double.NegativeInfinity], [0.2]), "mean", $"'mean[0]' must be finite, got {double.NegativeInfinity}.", $"{double.NegativeInfinity}"),
        ["FromMeanAndStd, std whose square underflows"] = (() => FromMeanAndStd([0.5], [1e-200]), "std", $"'std[0]' must be {StdRange}, got {1e-200}.", $"{1e-200}"),
        ["FromMeanAndStd, std whose square overflows"] = (() => FromMeanAndStd([0.5, 0.5], [0.2, 1e200]), "std", $"'std[1]' must be {StdRange}, got {1e200}.", $"{1e200}"),
        ["FromMeanAndStd, std just below the range"] = (() => FromMeanAndStd([0.5], [Math.BitDecrement(Math.ScaleB(1, -511))]), "std", $"'std[0]' must be {StdRange}, got {Math.BitDecrement(Math.ScaleB(1, -511))}.", $"{Math.BitDecrement(Math.ScaleB(1, -511))}"),
        ["FromMeanAndStd, std 2^512"] = (() => FromMeanAndStd([0.5], [Math.ScaleB(1, 512)]), "std", $"'std[0]' must be {StdRange}, got {Math.ScaleB(1, 512)}.", $"{Math.ScaleB(1, 512)}"),
        ["FromMeanAndStd, zero std"] = (() => FromMeanAndStd([0.5], [0]), "std", $"'std[0]' must be {StdRange}, got 0.", "0"),
        ["FromMeanAndStd, NaN std"] = (() => FromMeanAndStd([0.5], [double.NaN]), "std", $"'std[0]' must be {StdRange}, got NaN.", "NaN"),
        ["FromMeanAndStd, no layout"] = (() => BatchNormalizationParameters.FromMeanAndStd("o", "i", ChannelLayout.None, [0.5], [0.2]), "channelLayout",
            "'channelLayout' must be ChannelsFirst or ChannelsLast (use the constructor for per-slot parameters), got None.", "None"),
        ["ForScaleOnly, no slots"] = (() => BatchNormalizationParameters.ForScaleOnly("o", "i", []), "runningVariance", "'runningVariance' must be at least one slot long, got 0.", "0"),
        ["ForChannels, no channels"] = (() => BatchNormalizationParameters.ForChannels("o", "i", ChannelLayout.ChannelsLast, [], []), "runningMean", "'runningMean' must be at least one channel long, got 0.", "0"),
        ["constructor, no slots"] = (() => new BatchNormalizationParameters("o", "i", Array.Empty<double>(), []), "runningMean", "'runningMean' must be at least one slot long, got 0.", "0"),
    };

    [Theory]
    [MemberData(nameof(OutOfRangeCases))]
    public void Factory_ArgumentOutOfRange_NamesTheCallersArgument(string name)
    {
        var (build, param, message, actual) = OutOfRange[name];
        var ex = Assert.Throws<ArgumentOutOfRangeException>(build);
        Assert.Equal(param, ex.ParamName);
        Assert.Equal($"{message} (Parameter '{param}'){Environment.NewLine}Actual value was {actual}.", ex.Message);
    }

    [Fact]
    public void FromMeanAndStd_LengthsDiffer_NamesStd()
    {
        var ex = Assert.Throws<ArgumentException>(() => FromMeanAndStd([0.5], [0.2, 0.2]));
        Assert.Equal("std", ex.ParamName);
        Assert.Equal("Length of 'std' must be 1, got 2. (Parameter 'std')", ex.Message);
    }

    [Fact]
    public void FromMeanAndStd_NullArguments_NameThem()
    {
        Assert.Equal("mean", Assert.Throws<ArgumentNullException>(() => FromMeanAndStd(null!, [0.2])).ParamName);
        Assert.Equal("std", Assert.Throws<ArgumentNullException>(() => FromMeanAndStd([0.5], null!)).ParamName);
    }

    [Fact]
    public void FromMeanAndStd_AtTheEndsOfTheRange_KeepsStdExactly()
    {
        double smallest = Math.ScaleB(1, -511), largest = Math.BitDecrement(Math.ScaleB(1, 512));
        var p = FromMeanAndStd([0.5, -0.5], [smallest, largest]);

        Assert.Equal(smallest, Math.Sqrt(p.RunningVariance[0] + p.Epsilon));
        Assert.Equal(largest, Math.Sqrt(p.RunningVariance[1] + p.Epsilon));
    }

    private static BatchNormalizationParameters FromMeanAndStd(double[] mean, double[] std) =>
        BatchNormalizationParameters.FromMeanAndStd("o", "i", ChannelLayout.ChannelsFirst, mean, std);
}
