using Microsoft.ML;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Tests.TestSupport;
using Ml.Normalization.Tests.Transforms.Stages.Scale;

namespace Ml.Normalization.Tests.Transforms;

/// <summary>
/// Every estimator the library hands out passes ML.NET's estimator workout (<see cref="EstimatorWorkout"/>, after
/// ML.NET's TestEstimatorCore): schema propagation, refusal of a bad column at GetOutputSchema and Fit, the row-to-row
/// mapper, save and load. A public estimator type without a case here fails <see cref="EveryPublicEstimatorType_HasAWorkout"/>.
/// </summary>
public class EstimatorContractTests
{
    private const int Slots = 4;

    public static TheoryData<string> Cases => [.. Workouts.Keys];

    private static readonly Dictionary<string, (Type Estimator, Action<MLContext> Run)> Workouts = new()
    {
        ["BatchNormalize(outputColumnName, inputColumnName, batchSize)"] = (typeof(BatchNormalizingEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.BatchNormalize("Out", "Features", batchSize: 8), Train(ml), Test(ml), TextFeatures(ml))),
        ["BatchNormalize(columns, options) per channel"] = (typeof(BatchNormalizingEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Pixels")], new BatchNormalizingEstimator.Options { ChannelLayout = ChannelLayout.ChannelsFirst, BatchSize = 4 }),
                ImageData.View(ml, ImageData.Rows(3, 12, 2, 9, ChannelLayout.ChannelsFirst), 2, 3, 3),
                ImageData.View(ml, ImageData.Rows(4, 5, 2, 9, ChannelLayout.ChannelsFirst), 2, 3, 3),
                ml.Data.LoadFromEnumerable(new[] { new ScalarPixels { Pixels = 1f } }))),
        ["BatchNormalize(outputColumnName, options)"] = (typeof(BatchNormalizingEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.BatchNormalize("Features", new BatchNormalizingEstimator.Options { BatchSize = 8, Center = false, Gamma = [0.5] }), Train(ml), Test(ml), TextFeatures(ml))),
        ["BatchNormalize(outputColumnName, inputColumnName, options)"] = (typeof(BatchNormalizingEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.BatchNormalize("Out", "Features", new BatchNormalizingEstimator.Options { BatchSize = 8, WholeDataStatistics = true }), Train(ml), Test(ml), TextFeatures(ml))),
        ["BatchNormalize(parameters)"] = (typeof(KnownParametersBatchNormalizingEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.BatchNormalize(new BatchNormalizationParameters("Out", "Features", [1.0, -2.0, 0.5, 3.0], [4.0, 0.25, 1.0, 9.0], gamma: [2.0], beta: [0.5])),
                Train(ml), Test(ml), TextFeatures(ml))),
        ["InverseBatchNormalize(outputColumnName, inputColumnName, parameters)"] = (typeof(InverseBatchNormalizingEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.InverseBatchNormalize("Out", "Features", new BatchNormalizationParameters("N", null, [1.0, -2.0, 0.5, 3.0], [4.0, 0.25, 1.0, 9.0], gamma: [2.0, -1.0, 0.5, 3.0], beta: [0.5])),
                Train(ml), Test(ml), TextFeatures(ml))),
        ["InverseBatchNormalize(outputColumnName, inputColumnName, normalizer) per channel"] = (typeof(InverseBatchNormalizingEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.InverseBatchNormalize("Out", "Pixels",
                    ml.Transforms.BatchNormalize([new InputOutputColumnPair("Pixels")], new BatchNormalizingEstimator.Options { ChannelLayout = ChannelLayout.ChannelsLast, BatchSize = 4 })
                        .Fit(ImageData.View(ml, ImageData.Rows(3, 12, 2, 9, ChannelLayout.ChannelsLast), 3, 3, 2))),
                ImageData.View(ml, ImageData.Rows(4, 12, 2, 9, ChannelLayout.ChannelsLast), 3, 3, 2),
                ImageData.View(ml, ImageData.Rows(5, 5, 2, 9, ChannelLayout.ChannelsLast), 3, 3, 2),
                ml.Data.LoadFromEnumerable(new[] { new ScalarPixels { Pixels = 1f } }))),
        ["InverseBatchNormalize(normalizer) scale only"] = (typeof(InverseBatchNormalizingEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.InverseBatchNormalize(ml.Transforms.BatchNormalize("Features", new BatchNormalizingEstimator.Options { BatchSize = 8, Center = false }).Fit(Train(ml))),
                Train(ml), Test(ml), TextFeatures(ml))),
        ["Dropout(outputColumnName, inputColumnName, dropProbability, seed)"] = (typeof(DropoutEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.Dropout("Out", "Features", dropProbability: 0.25f, seed: 3), Train(ml), Test(ml), TextFeatures(ml))),
        ["Dropout(outputColumnName, inputColumnName, options)"] = (typeof(DropoutEstimator), ml =>
            EstimatorWorkout.Run(ml, ml.Transforms.Dropout("Out", "Features", new DropoutEstimator.Options { DropProbability = 0.5f, Seed = 4, Kind = DropoutKind.Standard }), Train(ml), Test(ml), TextFeatures(ml))),
        ["Scale (the test assembly's example stage)"] = (typeof(ScaleEstimator), ml =>
            EstimatorWorkout.Run(ml, new ScaleEstimator(MlNetEnvironment.Of(ml.Transforms), [new InputOutputColumnPair("Out", "Features")], 1.5f), Train(ml), Test(ml), TextFeatures(ml))),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Estimator_PassesMlNetsEstimatorWorkout(string name) => Workouts[name].Run(new MLContext(seed: 1));

    [Fact]
    public void EveryPublicEstimatorType_HasAWorkout()
    {
        var estimators = typeof(BatchNormalizingEstimator).Assembly.GetExportedTypes()
            .Where(t => !t.IsAbstract && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEstimator<>)))
            .OrderBy(t => t.Name);

        Assert.Equal(estimators, Workouts.Values.Select(w => w.Estimator).Where(t => t.Assembly == typeof(BatchNormalizingEstimator).Assembly).Distinct().OrderBy(t => t.Name));
    }

    private static IDataView Train(MLContext ml) => TestData.Vectors(ml, TestData.Random(seed: 11, rows: 20, size: Slots, mean: 2, std: 3), Slots);

    private static IDataView Test(MLContext ml) => TestData.Vectors(ml, TestData.Random(seed: 12, rows: 6, size: Slots), Slots);

    /// <summary>A "Features" column of text: every stage refuses it.</summary>
    private static IDataView TextFeatures(MLContext ml) => ml.Data.LoadFromEnumerable(new[] { new TextRow { Features = "a" } });

    private sealed class TextRow
    {
        public string Features { get; set; } = "";
    }

    /// <summary>A scalar "Pixels" column: a per-channel stage refuses it.</summary>
    private sealed class ScalarPixels
    {
        public float Pixels { get; set; }
    }
}
