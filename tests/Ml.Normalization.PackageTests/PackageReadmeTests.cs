using System.Text.RegularExpressions;
using System.Xml.Linq;
using Ml.Normalization.Testing.Docs;

namespace Ml.Normalization.PackageTests;

/// <summary>
/// The readme the package carries (src/Ml.Normalization/PACKAGE.md) stands alone: its C# blocks compile and run in a
/// user's app built against the packed package on each supported ML.NET, each names the packages it needs beyond this
/// one, and its links are absolute, into the repository the package names.
/// </summary>
[Collection(PackageFeedCollection.Name)]
public partial class PackageReadmeTests(PackageFeed feed)
{
    public static TheoryData<string> MlNetVersions => [.. PackageFeed.SupportedMlNetVersions];

    [Theory]
    [MemberData(nameof(MlNetVersions))]
    public void ReadmeBlocks_CompileAndRun_InAUsersAppOnThePackedPackage(string mlNetVersion)
    {
        string package = feed.Pack("1.0.0");
        var app = feed.App(mlNetVersion, package); // its build compiled every block (ReadmeBlockSources)
        string folder = Directory.CreateDirectory(Path.Combine(app.Directory, "readme-" + Guid.NewGuid().ToString("N"))).FullName;
        // What the image blocks read: a few of the samples' image patches, and the samples' stand-in for an ImageNet
        // model, which has resnet18.onnx's interface ("input" [N, 3, 224, 224], "output").
        string samples = Path.Combine(PackageFeed.RepositoryRoot, "src", "Ml.Normalization.Samples", "Data");
        var images = Directory.CreateDirectory(Path.Combine(folder, "images"));
        foreach (string photo in new[] { "astronaut", "chelsea", "coffee" })
        {
            foreach (string file in Directory.GetFiles(Path.Combine(samples, "images", photo), "*.jpg").Order(StringComparer.Ordinal).Take(2))
            {
                File.Copy(file, Path.Combine(images.FullName, Path.GetFileName(file)));
            }
        }

        File.Copy(Path.Combine(samples, "tiny_classifier.onnx"), Path.Combine(folder, "resnet18.onnx"));

        var result = app.RunReadme(folder);

        var blocks = ReadmeBlockSources.Blocks(feed.Readme(package));
        Assert.True(blocks.Count >= 10, $"the readme has {blocks.Count} C# blocks");
        // The readme promises that every block runs, so none may be only compiled.
        Assert.All(blocks, b => Assert.True(ReadmeBlockSources.IsRunnable(b), $"{ReadmeBlockSources.Name(b)} has a '= ...' the app has no value for"));
        Assert.True(result.ExitCode == 0, result.Output);
        var reported = result.Output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => ReportLine().IsMatch(l));
        Assert.Equal(blocks.Select(b => "ran " + ReadmeBlockSources.Name(b)), reported);
        // What the blocks wrote where they ran: the quick start's model (which the continue block loads), the ONNX file.
        Assert.True(File.Exists(Path.Combine(folder, "model.zip")));
        Assert.True(new FileInfo(Path.Combine(folder, "model.onnx")).Length > 0);
        Assert.Single(Directory.GetFiles(Path.Combine(folder, "shards")));
    }

    [Fact]
    public void ReadmeBlocks_NameThePackagesTheyNeed_AndOnlyPackagesTheUsersAppRestores()
    {
        string readme = feed.Readme(feed.Pack("1.0.0"));
        var referenced = XDocument.Load(Path.Combine(PackageFeed.RepositoryRoot, "tests", "Ml.Normalization.PackageTests", "ConsumerApp", "ConsumerApp.csproj"))
            .Descendants("PackageReference").Select(e => e.Attribute("Include")!.Value).ToHashSet();

        var blocks = ReadmeBlockSources.Blocks(readme);
        Assert.Empty(MissingPackages(readme));
        foreach (var block in blocks)
        {
            var named = ReadmeBlockSources.NamedPackages(readme, block);
            Assert.All(named, p => Assert.True(referenced.Contains(p), $"{ReadmeBlockSources.Name(block)} names {p}, which the app that runs it does not reference"));
            Assert.True(named.Count == 0 || named.Contains("Ml.Normalization"), $"{ReadmeBlockSources.Name(block)} names its packages without Ml.Normalization");
        }

        // The check sees the blocks that need more: the image, ImageNet and ONNX export examples.
        Assert.Equal(3, blocks.Count(b => ReadmeBlockSources.NeededPackages(b).Any()));
    }

    [Fact]
    public void PackageCheck_HasTeeth_TheImageNetExampleWithoutOnnxRuntimeFails()
    {
        // The readme's earlier ImageNet example named Microsoft.ML.OnnxTransformer only; an app with only that fails
        // at Fit with a DllNotFoundException for onnxruntime (inside a TypeInitializationException).
        string markdown = "Packages: `Ml.Normalization`, `Microsoft.ML.ImageAnalytics`, `Microsoft.ML.OnnxTransformer`\n\n```csharp\n" +
            "var model = ml.Transforms.LoadImages(\"Image\", imageFolder, \"Path\")\n    .Append(ml.Transforms.ApplyOnnxModel(\"output\", \"input\", \"resnet18.onnx\"));\n```\n\n" +
            "```csharp\nml.Model.ConvertToOnnx(model, train, onnx);\n```\n";

        Assert.Equal(["test.md:3 needs Microsoft.ML.OnnxRuntime", "test.md:8 needs Microsoft.ML.OnnxConverter"], MissingPackages(markdown, "test.md"));
    }

    [Fact]
    public void Readme_LinksOnlyAbsolutely_IntoTheRepositoryThePackageNames_AndToEveryDocsPage()
    {
        string package = feed.Pack("1.0.0");
        string readme = feed.Readme(package);
        using var archive = System.IO.Compression.ZipFile.OpenRead(feed.PackagePath(package));
        using var nuspecStream = archive.GetEntry("Ml.Normalization.nuspec")!.Open();
        string projectUrl = XDocument.Load(nuspecStream).Descendants().Single(e => e.Name.LocalName == "projectUrl").Value;

        var links = Link().Matches(readme).Select(m => m.Groups["target"].Value).ToList();

        Assert.NotEmpty(links);
        Assert.All(links, l => Assert.StartsWith("https://", l, StringComparison.Ordinal)); // NuGet shows no repository beside it
        Assert.All(links.Where(l => l.Contains("/blob/", StringComparison.Ordinal)), l => Assert.StartsWith(projectUrl + "/blob/main/", l, StringComparison.Ordinal));
        var docs = Directory.GetFiles(Path.Combine(PackageFeed.RepositoryRoot, "docs"), "*.md").Select(f => $"{projectUrl}/blob/main/docs/{Path.GetFileName(f)}");
        Assert.All(docs, d => Assert.Contains(d, links));
        Assert.DoesNotContain("see the repository", readme, StringComparison.OrdinalIgnoreCase);
    }

    private static List<string> MissingPackages(string markdown, string file = ReadmeBlockSources.ReadmePath) =>
        [.. MarkdownCSharpBlocks.Parse(file, markdown).SelectMany(b => ReadmeBlockSources.NeededPackages(b).Distinct()
            .Where(p => !ReadmeBlockSources.NamedPackages(markdown, b).Contains(p))
            .Select(p => $"{b.File}:{b.Line} needs {p}"))];

    [GeneratedRegex(@"^(ran|compiled|failed) \S+:\d+")]
    private static partial Regex ReportLine();

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex Link();
}
