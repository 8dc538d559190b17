using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace Ml.Normalization.PackageTests;

/// <summary>What `dotnet add package Ml.Normalization` brings: metadata, licence, readme, symbols, dependencies.</summary>
[Collection(PackageFeedCollection.Name)]
public class PackageContentsTests(PackageFeed feed)
{
    [Fact]
    public void Nuspec_HasTheMetadataOfAReleasablePackage()
    {
        var nuspec = Nuspec(feed.Pack("1.0.0"));
        Assert.Equal("Ml.Normalization", Element(nuspec, "id"));
        Assert.Equal("Ml.Normalization contributors", Element(nuspec, "authors"));
        Assert.Equal("MIT", Element(nuspec, "license"));
        Assert.Equal("expression", nuspec.Descendants().Single(e => e.Name.LocalName == "license").Attribute("type")!.Value);
        Assert.Equal("README.md", Element(nuspec, "readme"));
        Assert.Contains("ML.NET", Element(nuspec, "tags"), StringComparison.Ordinal);
        Assert.Contains("batch", Element(nuspec, "description"), StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(nuspec.Descendants().SingleOrDefault(e => e.Name.LocalName == "repository")?.Attribute("commit"));
    }

    [Fact]
    public void Nuspec_NamesTheRepository_AsItsSourceAndProjectPage()
    {
        // Set in Directory.Build.props, not taken from the clone's git remote (on a build machine, maybe a local path).
        var nuspec = Nuspec(feed.Pack("1.0.0"));
        var repository = nuspec.Descendants().Single(e => e.Name.LocalName == "repository");
        Assert.Equal("git", repository.Attribute("type")?.Value);
        Assert.Equal("https://github.com/ml-normalization/Ml.Normalization", repository.Attribute("url")?.Value);
        Assert.Equal(repository.Attribute("url")!.Value, Element(nuspec, "projectUrl"));
        Assert.StartsWith(Element(nuspec, "projectUrl") + "/", Element(nuspec, "releaseNotes"), StringComparison.Ordinal);
    }

    [Fact]
    public void Nuspec_DependsOnMlNetOverTheSupportedRange_AndOnNoBuildOnlyPackage()
    {
        var dependencies = Nuspec(feed.Pack("1.0.0")).Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
        Assert.Equal(PackageFeed.SupportedMlNetRange, dependencies["Microsoft.ML"]);
        Assert.Equal(PackageFeed.SupportedMlNetRange, dependencies["Microsoft.ML.DataView"]);
        Assert.Equal("[5.0.1, 7.0.0)", PackageFeed.SupportedMlNetRange);
        Assert.Equal(["Microsoft.ML", "Microsoft.ML.DataView", "System.Numerics.Tensors"], dependencies.Keys.Order());
    }

    [Fact]
    public void Package_CarriesLicenceReadmeDocsAndOnlyTheLibrary()
    {
        using var package = ZipFile.OpenRead(feed.PackagePath(feed.Pack("1.0.0")));
        var entries = package.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("LICENSE", entries);
        Assert.Contains("README.md", entries);
        Assert.Contains("lib/net10.0/Ml.Normalization.dll", entries);
        Assert.Contains("lib/net10.0/Ml.Normalization.xml", entries);
        Assert.DoesNotContain(entries, e => e.Contains("Cecil", StringComparison.OrdinalIgnoreCase) || e.Contains("Publicizer", StringComparison.OrdinalIgnoreCase));

        string readme = new StreamReader(package.GetEntry("README.md")!.Open()).ReadToEnd();
        Assert.Contains("dotnet add package Ml.Normalization", readme, StringComparison.Ordinal);
        Assert.Contains("5.0.1", readme, StringComparison.Ordinal);
        Assert.Contains("6.0.0", readme, StringComparison.Ordinal);
        string licence = new StreamReader(package.GetEntry("LICENSE")!.Open()).ReadToEnd();
        Assert.StartsWith("MIT License", licence, StringComparison.Ordinal);
    }

    [Fact]
    public void Library_InThePackage_CarriesNoTestOnlyStage()
    {
        // The example stage of the skeleton tests (ScaleEstimator/ScaleTransformer) lives in the test assembly; a copy
        // in the library would ship an undocumented stage and its model-loader registration to every app.
        using var package = ZipFile.OpenRead(feed.PackagePath(feed.Pack("1.0.0")));
        using var dll = new MemoryStream();
        using (var entry = package.GetEntry("lib/net10.0/Ml.Normalization.dll")!.Open())
        {
            entry.CopyTo(dll);
        }

        dll.Position = 0;
        using var pe = new PEReader(dll);
        var metadata = pe.GetMetadataReader();
        var types = metadata.TypeDefinitions.Select(h => metadata.GetTypeDefinition(h))
            .Select(t => (Namespace: metadata.GetString(t.Namespace), Name: metadata.GetString(t.Name))).ToList();

        Assert.Contains(types, t => t.Name == "BatchNormalizingTransformer"); // the check reads the right assembly
        Assert.DoesNotContain(types, t => t.Name is "ScaleEstimator" or "ScaleTransformer" || t.Namespace.EndsWith(".Scale", StringComparison.Ordinal));

        // Nor its loader signature, which a [LoadableStage] registration would carry as a string.
        var userStrings = new List<string>();
        for (var handle = MetadataTokens.UserStringHandle(1); !handle.IsNil; handle = metadata.GetNextHandle(handle))
        {
            userStrings.Add(metadata.GetUserString(handle));
        }

        Assert.Contains("MlNormBatchNormalize", userStrings); // the real stages' signatures are there to be found
        Assert.DoesNotContain(userStrings, s => s.Contains("MlNormScale", StringComparison.Ordinal));
    }

    [Fact]
    public void SymbolPackage_HasThePortablePdb()
    {
        using var symbols = ZipFile.OpenRead(feed.PackagePath(feed.Pack("1.0.0"), "snupkg"));
        Assert.Contains("lib/net10.0/Ml.Normalization.pdb", symbols.Entries.Select(e => e.FullName));
    }

    [Theory]
    [InlineData("1.0.0")]
    [InlineData("1.9.0")]
    public void AssemblyVersion_IsMajorDotZero_WhateverThePackageVersion(string versionPrefix)
    {
        string version = feed.Pack(versionPrefix);
        using var package = ZipFile.OpenRead(feed.PackagePath(version));
        string dll = Path.Combine(feed.Root, $"inspect-{version}.dll");
        package.GetEntry("lib/net10.0/Ml.Normalization.dll")!.ExtractToFile(dll, overwrite: true);

        Assert.Equal(new Version(1, 0, 0, 0), AssemblyName.GetAssemblyName(dll).Version);
        var info = System.Diagnostics.FileVersionInfo.GetVersionInfo(dll);
        Assert.StartsWith(version, info.ProductVersion, StringComparison.Ordinal); // InformationalVersion keeps the whole version
        Assert.Equal(versionPrefix + ".0", info.FileVersion);
    }

    private XDocument Nuspec(string version)
    {
        using var package = ZipFile.OpenRead(feed.PackagePath(version));
        using var stream = package.GetEntry("Ml.Normalization.nuspec")!.Open();
        return XDocument.Load(stream);
    }

    private static string Element(XDocument nuspec, string name) => nuspec.Descendants().Single(e => e.Name.LocalName == name).Value;
}
