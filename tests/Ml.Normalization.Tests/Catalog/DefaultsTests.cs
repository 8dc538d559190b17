using System.Reflection;
using Microsoft.ML;

namespace Ml.Normalization.Tests.Catalog;

/// <summary>
/// The defaults are not API of their own (internal Defaults classes, as ML.NET's): a caller meets them as the catalog's
/// optional arguments and as the values of a new Options, and those two agree.
/// </summary>
public class DefaultsTests
{
    [Theory]
    [InlineData(typeof(BatchNormalizingEstimator))]
    [InlineData(typeof(DropoutEstimator))]
    public void Defaults_AreInternal_OnlyOptionsIsANestedPublicType(Type estimator)
    {
        Assert.Equal(["Options"], estimator.GetNestedTypes(BindingFlags.Public).Select(t => t.Name));
        Assert.NotNull(estimator.GetNestedType("Defaults", BindingFlags.NonPublic));
    }

    [Fact]
    public void BatchNormalize_CatalogDefaults_AreTheOptionsDefaults()
    {
        var options = new BatchNormalizingEstimator.Options();
        var expected = new Dictionary<string, object?>
        {
            ["batchSize"] = options.BatchSize,
            ["momentum"] = options.Momentum,
            ["epsilon"] = options.Epsilon,
        };

        foreach (var method in CatalogMethods(typeof(BatchNormalizationCatalog), nameof(BatchNormalizationCatalog.BatchNormalize)))
        {
            foreach (var p in method.GetParameters().Where(p => expected.ContainsKey(p.Name!)))
            {
                Assert.True(p.HasDefaultValue, $"{method}: {p.Name} has no default");
                Assert.Equal(expected[p.Name!], p.DefaultValue);
            }
        }
    }

    [Fact]
    public void Dropout_CatalogDefaults_AreTheOptionsDefaults()
    {
        var options = new DropoutEstimator.Options();
        var parameters = CatalogMethods(typeof(DropoutCatalog), nameof(DropoutCatalog.Dropout))
            .SelectMany(m => m.GetParameters()).Where(p => p.Name == "dropProbability").ToList();

        Assert.NotEmpty(parameters);
        Assert.All(parameters, p => Assert.Equal(options.DropProbability, p.DefaultValue));
        Assert.Null(options.Seed);
        Assert.Equal(DropoutKind.Inverted, options.Kind);
        Assert.Equal((ChannelLayout.None, 0), (options.ChannelLayout, options.ChannelCount));
    }

    private static IEnumerable<MethodInfo> CatalogMethods(Type catalog, string name) =>
        catalog.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name == name);
}
