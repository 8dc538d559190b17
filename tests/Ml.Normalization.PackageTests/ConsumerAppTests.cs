namespace Ml.Normalization.PackageTests;

/// <summary>
/// A user's app built against the packed library: restores with no version conflict on every supported ML.NET, fits
/// BatchNormalize -> Dropout -> FastTree, saves, and a fresh process loads the model with bit-identical scores; models
/// cross ML.NET versions and package versions.
/// </summary>
[Collection(PackageFeedCollection.Name)]
public class ConsumerAppTests(PackageFeed feed)
{
    public static TheoryData<string> MlNetVersions => [.. PackageFeed.SupportedMlNetVersions];

    [Theory]
    [MemberData(nameof(MlNetVersions))]
    public void App_RestoresWithoutVersionConflicts(string mlNetVersion)
    {
        var app = feed.App(mlNetVersion, feed.Pack("1.0.0"));
        // The app treats warnings as errors, so NU1107 (conflict) or NU1608 (outside a range) would have failed the build.
        Assert.DoesNotContain("NU1107", app.BuildOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("NU1608", app.BuildOutput, StringComparison.Ordinal);
        Assert.Contains("0 Warning(s)", app.BuildOutput, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(MlNetVersions))]
    public void App_FitsSavesAndLoadsInAFreshProcess_WithIdenticalScores(string mlNetVersion)
    {
        string package = feed.Pack("1.0.0");
        var app = feed.App(mlNetVersion, package);
        string model = Path.Combine(app.Directory, "model.zip");

        var (fitOutput, fitted) = app.Run("fit", model);
        var (loadOutput, loaded) = app.Run("load", model);

        Assert.Contains($"ML.NET {mlNetVersion}", fitOutput, StringComparison.Ordinal);
        Assert.Contains($"Ml.Normalization {package} (assembly 1.0.0.0)", fitOutput, StringComparison.Ordinal);
        Assert.Contains("stages: BatchNormalizingTransformer, DropoutTransformer, BinaryPredictionTransformer`1", loadOutput, StringComparison.Ordinal);
        Assert.Equal(200, fitted.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(fitted.Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct().Count() > 20, "the model scores every row alike");
        Assert.Equal(fitted, loaded);
    }

    [Fact]
    public void Model_SavedOnTheLowestMlNet_LoadsOnTheHighest_WithIdenticalScores()
    {
        string package = feed.Pack("1.0.0");
        var versions = PackageFeed.SupportedMlNetVersions;
        var older = feed.App(versions[0], package);
        var newer = feed.App(versions[^1], package);
        string model = Path.Combine(older.Directory, "cross-mlnet.zip");

        var (_, fitted) = older.Run("fit", model);
        var (output, loaded) = newer.Run("load", model);

        Assert.Contains($"ML.NET {versions[^1]}", output, StringComparison.Ordinal);
        Assert.Equal(fitted, loaded);
    }

    [Theory]
    [InlineData("1.9.0", "1.0.0")] // a model from a newer package, loaded by an app that has not upgraded
    [InlineData("1.0.0", "1.9.0")] // an old model, loaded after the upgrade
    public void Model_CrossesPackageVersions_BothWays(string savedBy, string loadedBy)
    {
        string mlNet = PackageFeed.SupportedMlNetVersions[0];
        var saver = feed.App(mlNet, feed.Pack(savedBy));
        var loader = feed.App(mlNet, feed.Pack(loadedBy));
        string model = Path.Combine(saver.Directory, $"from-{savedBy}.zip");

        var (_, fitted) = saver.Run("fit", model);
        var (output, loaded) = loader.Run("load", model);

        Assert.Contains($"Ml.Normalization {loadedBy}", output, StringComparison.Ordinal);
        Assert.Equal(fitted, loaded);
    }

    [Fact]
    public void Control_AModelWhoseLoaderAssemblyVersionIsNewer_DoesNotLoad()
    {
        // Why the assembly version stays at major.0.0.0: the same package with AssemblyVersion 1.9.0.0 writes a model
        // that an app on 1.0 cannot load, because the model names its loader assembly with its full version.
        string mlNet = PackageFeed.SupportedMlNetVersions[0];
        var saver = feed.App(mlNet, feed.Pack("1.9.0", "-p:AssemblyVersion=1.9.0.0"));
        var loader = feed.App(mlNet, feed.Pack("1.0.0"));
        string model = Path.Combine(saver.Directory, "from-assembly-1.9.zip");
        saver.Run("fit", model);

        var result = loader.TryRun("load", model);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Ml.Normalization, Version=1.9.0.0", result.Output, StringComparison.Ordinal);
    }
}
