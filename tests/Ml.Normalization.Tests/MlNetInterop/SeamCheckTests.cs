using System.Reflection;
using Microsoft.ML;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// The seam's self-check: the list of ML.NET bindings comes from the library's own metadata, every entry resolves on
/// the ML.NET this suite runs on, and a binding that does not resolve produces one clear NotSupportedException.
/// </summary>
public class SeamCheckTests
{
    [Fact]
    public void TheSuite_RunsOnTheMlNetVersionItWasBuiltFor()
    {
        // CI runs the suite once per supported ML.NET (-p:MLNetVersion=...); this proves which one actually loaded.
        string expected = typeof(SeamCheckTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "MLNetVersion").Value!;
        Assert.Equal(expected, SeamCheck.LoadedMlNetVersion);
    }

    [Fact]
    public void Bindings_ResolveOnTheLoadedMlNet()
    {
        Assert.Null(SeamCheck.Check(SeamCheck.Bindings));
        SeamCheck.EnsureCompatible(); // and the cached check agrees
    }

    [Fact]
    public void Bindings_NameTheInternalsTheSeamUses()
    {
        var names = SeamCheck.Bindings.Select(b => $"{b.TypeName}.{b.MemberName}").ToHashSet();
        Assert.Contains("Microsoft.ML.Data.CatalogUtils.GetEnvironment", names);
        Assert.Contains("Microsoft.ML.ModelSaveContext.SetVersionInfo", names);
        Assert.Contains("Microsoft.ML.ModelLoadContext.CheckAtModel", names);
        Assert.Contains("Microsoft.ML.Model.OnnxConverter.OnnxContext.CreateNode", names);
        Assert.Contains(SeamCheck.Bindings, b => b is { TypeName: "Microsoft.ML.ITransformerWithDifferentMappingAtTrainingTime", MemberName: null });
        Assert.All(SeamCheck.Bindings, b => Assert.StartsWith("Microsoft.ML", b.Assembly, StringComparison.Ordinal));
    }

    [Fact]
    public void Bindings_CoverEveryNonPublicMlNetMemberTheCodeReferences()
    {
        // Independent of the metadata reader: the IL scanner of SeamBoundaryTests finds every ML.NET member the
        // library's code calls or loads; each non-public one must be in the list the check verifies.
        var listed = SeamCheck.Bindings.Where(b => b.MemberName is not null).Select(b => (b.TypeName, b.MemberName)).ToHashSet();
        var used = IlReferences.HiddenMlNetMembers(typeof(BatchNormalizingTransformer).Assembly);
        Assert.NotEmpty(used);
        var missing = used.Where(m => !listed.Contains((m.DeclaringType!.IsGenericType ? m.DeclaringType.GetGenericTypeDefinition().FullName! : m.DeclaringType.FullName!, m.Name))).ToList();
        Assert.True(missing.Count == 0, "not in SeamCheck.Bindings: " + string.Join(", ", missing.Select(m => $"{m.DeclaringType}.{m.Name}")));
    }

    [Fact]
    public void Check_PlantedMissingMember_ThrowsNotSupportedThatNamesIt()
    {
        var planted = new SeamCheck.Binding("Microsoft.ML.Core", "Microsoft.ML.ModelLoadContext", "CheckAtModelV2", 0);
        var ex = SeamCheck.Check([.. SeamCheck.Bindings, planted]);

        Assert.NotNull(ex);
        Assert.IsType<NotSupportedException>(ex);
        var (range, tested) = SeamCheck.SupportedMlNet;
        Assert.Equal("[5.0.1, 7.0.0)", range);
        Assert.Equal("5.0.1, 6.0.0", tested);
        Assert.Matches(
            @"^Ml\.Normalization \d+\.\d+\.\d+\S* supports ML\.NET \[5\.0\.1, 7\.0\.0\) \(tested on 5\.0\.1, 6\.0\.0\), " +
            @"but the loaded ML\.NET is " + System.Text.RegularExpressions.Regex.Escape(SeamCheck.LoadedMlNetVersion) +
            @" and lacks Microsoft\.ML\.ModelLoadContext\.CheckAtModelV2 \(Microsoft\.ML\.Core\), which this library binds to\. " +
            @"Use a Microsoft\.ML version in \[5\.0\.1, 7\.0\.0\), or a version of Ml\.Normalization that supports ML\.NET .+\.$",
            ex!.Message);
    }

    [Fact]
    public void Check_ReportsTheFirstMissingBinding_InListOrder()
    {
        var first = new SeamCheck.Binding("Microsoft.ML.Data", "Microsoft.ML.Data.NoSuchType", null, 0);
        var second = new SeamCheck.Binding("Microsoft.ML.Core", "Microsoft.ML.ModelLoadContext", "NoSuchMember", 0);
        var ex = SeamCheck.Check([SeamCheck.Bindings[0], first, second]);
        Assert.Contains("lacks type Microsoft.ML.Data.NoSuchType (Microsoft.ML.Data)", ex!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("NoSuchMember", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_MissingAssembly_IsReported()
    {
        var ex = SeamCheck.Check([new SeamCheck.Binding("Microsoft.ML.Gone", "Microsoft.ML.Gone.Thing", null, 0)]);
        Assert.Contains("lacks type Microsoft.ML.Gone.Thing (Microsoft.ML.Gone)", ex!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_MemberOnABaseTypeOrInterface_Resolves()
    {
        // A reference may name a derived type while the member is declared on a base class or an inherited interface.
        Assert.Null(SeamCheck.Check([new SeamCheck.Binding("Microsoft.ML.Core", "Microsoft.ML.Runtime.IHost", "Register", 0)]));
        Assert.Null(SeamCheck.Check([new SeamCheck.Binding("Microsoft.ML.Data", "Microsoft.ML.Data.TransformerChain`1", "GetOutputSchema", 0)]));
    }

    [Fact]
    public void Gates_CatalogAndLoader_PassOnTheLoadedMlNet()
    {
        // The gates run the (cached) check: on a supported ML.NET they let everything through.
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Random(seed: 3, rows: 8, size: 2), 2);
        var model = ml.Transforms.BatchNormalize("Features", batchSize: 4).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        Assert.IsType<BatchNormalizingTransformer>(ml.Model.Load(stream, out _));
    }
}
