using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;
using static Ml.Normalization.Tests.TestSupport.GoldenVectors;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>The fitted running statistics against the seed reference and PyTorch, after the same batches.</summary>
public class BatchNormalizingFitGoldenTests
{
    public static TheoryData<string> SeedCases => SeedNames();

    public static TheoryData<string> TorchCases => TorchNames();

    [Theory]
    [MemberData(nameof(SeedCases))]
    public void Fit_WithoutBiasCorrection_EqualsSeedReference(string name)
    {
        var c = SeedCase(name);
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Rows(c.Batches, c.Features), c.Features);
        var options = new BatchNormalizingEstimator.Options
        {
            BatchSize = c.Rows,
            Momentum = c.Momentum,
            Epsilon = c.Eps,
            BiasCorrection = false,
        };

        var column = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data).Columns[0];

        double scale = c.Batches[^1].Max(Math.Abs);
        Approx.Equal(c.Running_Mean_After[^1], column.RunningMean.ToArray(), 1e-6, 4 * 6e-8 * scale, $"{name} running mean");
        Approx.Equal(c.Running_Var_After[^1], column.RunningVariance.ToArray(), 1e-5, 1e-7, $"{name} running variance");
        Assert.Equal(c.Batches.Length, column.BatchCount);
        Assert.Equal(c.Batches.Length * c.Rows, column.RowCount);
    }

    [Theory]
    [MemberData(nameof(SeedCases))]
    public void Transform_WithSeedStatistics_EqualsSeedTestModeOutput(string name)
    {
        var c = SeedCase(name);
        var ml = new MLContext(seed: 1);
        var options = new BatchNormalizingEstimator.Options
        {
            BatchSize = c.Rows,
            Momentum = c.Momentum,
            Epsilon = c.Eps,
            BiasCorrection = false,
            Gamma = c.Gamma,
            Beta = c.Beta,
        };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], options)
            .Fit(TestData.Vectors(ml, TestData.Rows(c.Batches, c.Features), c.Features));

        var testRows = TestData.Rows([c.Test_X], c.Features);
        var output = TestData.ReadVectors(model.Transform(TestData.Vectors(ml, testRows, c.Features)), "Out");
        double tolerance = 1e-5 * c.Test_Out.Max(Math.Abs); // float inputs and parameters: a few float ulps of the largest output
        Approx.Equal(c.Test_Out, output.SelectMany(r => r).ToArray(), 1e-5, tolerance, $"{name} test_out");
    }

    [Theory]
    [MemberData(nameof(TorchCases))]
    public void Fit_WithTorchConventions_EqualsBatchNorm1d(string name)
    {
        var c = TorchCase(name);
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Rows(c.Batches, c.Features), c.Features);
        var options = new BatchNormalizingEstimator.Options
        {
            BatchSize = c.Rows,
            Momentum = 1 - c.Torch_Momentum,
            Epsilon = c.Eps,
            BiasCorrection = false,
            UnbiasedRunningVariance = true,
            InitialRunningVariance = 1f,
        };

        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data);
        var column = model.Columns[0];

        double scale = c.Batches.Max(b => b.Max(Math.Abs));
        Approx.Equal(c.Running_Mean_After[^1], column.RunningMean.ToArray(), 1e-6, 4 * 6e-8 * scale, $"{name} running mean");
        Approx.Equal(c.Running_Var_After[^1], column.RunningVariance.ToArray(), 1e-5, 1e-7, $"{name} running variance");
        Assert.Equal(c.Batch_Rows.Length, column.BatchCount); // a partial last batch of >= 2 rows counts

        var output = TestData.ReadVectors(model.Transform(TestData.Vectors(ml, TestData.Rows([c.Test_X], c.Features), c.Features)), "Features");
        Approx.Equal(c.Eval_Out, output.SelectMany(r => r).ToArray(), 1e-4, 1e-4 * c.Eval_Out.Max(Math.Abs), $"{name} eval_out");
    }
}
