using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;

namespace Ml.Normalization.PackageTests;

/// <summary>
/// A temporary NuGet feed with the library packed under unique versions (so the NuGet cache never serves an older
/// build), and consumer apps built against it, each once, shared by the tests.
/// </summary>
public sealed class PackageFeed : IDisposable
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, Lazy<string>> _packs = new();
    private readonly ConcurrentDictionary<string, Lazy<ConsumerApp>> _apps = new();
    private readonly string _stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    public PackageFeed()
    {
        Root = Path.Combine(Path.GetTempPath(), "mlnorm-package-tests-" + _stamp);
        Feed = Directory.CreateDirectory(Path.Combine(Root, "feed")).FullName;
    }

    public string Root { get; }

    public string Feed { get; }

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ml.Normalization.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("repository root (Ml.Normalization.sln) not found");
        }
    }

    public static IReadOnlyList<string> SupportedMlNetVersions =>
        typeof(PackageFeed).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "MLNetSupportedVersions").Value!.Split(',');

    public static string SupportedMlNetRange =>
        typeof(PackageFeed).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "MLNetSupportedRange").Value!;

    /// <summary>
    /// Packs the library as version <paramref name="versionPrefix"/>-ci.stamp (plus <paramref name="extraProperties"/>,
    /// for a control with another assembly version) and returns the package version.
    /// </summary>
    public string Pack(string versionPrefix, params string[] extraProperties) =>
        _packs.GetOrAdd(versionPrefix + string.Join(' ', extraProperties), _ => new Lazy<string>(() =>
        {
            string suffix = "ci." + _stamp + (extraProperties.Length == 0 ? "" : ".control");
            string output = Path.Combine(Root, "pack-" + versionPrefix + "-" + suffix);
            DotNet.Run(RepositoryRoot, BuildTimeout,
                ["pack", "src/Ml.Normalization", "-c", "Release", "-o", output,
                 $"-p:VersionPrefix={versionPrefix}", $"-p:VersionSuffix={suffix}", .. extraProperties])
                .EnsureSuccess($"dotnet pack {versionPrefix}-{suffix}");
            foreach (var file in Directory.GetFiles(output))
            {
                File.Copy(file, Path.Combine(Feed, Path.GetFileName(file)), overwrite: true);
            }

            return $"{versionPrefix}-{suffix}";
        })).Value;

    public string PackagePath(string version, string extension = "nupkg") => Path.Combine(Feed, $"Ml.Normalization.{version}.{extension}");

    /// <summary>The readme package <paramref name="version"/> carries (PACKAGE.md, packed as README.md).</summary>
    public string Readme(string version)
    {
        using var package = ZipFile.OpenRead(PackagePath(version));
        using var reader = new StreamReader(package.GetEntry("README.md")!.Open());
        return reader.ReadToEnd();
    }

    /// <summary>ConsumerApp copied out of the repository and built against package <paramref name="packageVersion"/> on ML.NET <paramref name="mlNetVersion"/>.</summary>
    public ConsumerApp App(string mlNetVersion, string packageVersion) =>
        _apps.GetOrAdd(mlNetVersion + "/" + packageVersion, _ => new Lazy<ConsumerApp>(() =>
        {
            string dir = Path.Combine(Root, "apps", $"mlnet-{mlNetVersion}-pkg-{packageVersion}");
            Directory.CreateDirectory(dir);
            foreach (var file in new[] { "ConsumerApp.csproj", "Program.cs", "ReadmeBlocks.cs" })
            {
                File.Copy(Path.Combine(RepositoryRoot, "tests", "Ml.Normalization.PackageTests", "ConsumerApp", file), Path.Combine(dir, file));
            }

            // The C# blocks of the readme the package carries, compiled by the same build (ReadmeBlockSources).
            ReadmeBlockSources.Write(Readme(packageVersion), Path.Combine(dir, "ReadmeBlocks"));

            // The user's NuGet sources stay as they are; the feed is added beside them.
            File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="ml-normalization-under-test" value="{Feed}" />
                  </packageSources>
                </configuration>
                """);
            var build = DotNet.Run(dir, BuildTimeout, "build", "-c", "Release", $"-p:MlNormalizationVersion={packageVersion}", $"-p:MLNetVersion={mlNetVersion}")
                .EnsureSuccess($"building the consumer app on ML.NET {mlNetVersion} with Ml.Normalization {packageVersion}");
            return new ConsumerApp(dir, Path.Combine(dir, "bin", "Release", "net10.0", "ConsumerApp.dll"), build.Output);
        })).Value;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}

/// <summary>A built consumer app.</summary>
public sealed record ConsumerApp(string Directory, string Dll, string BuildOutput)
{
    /// <summary>Runs the app in a new process: "fit" or "load" a model, writing its scores.</summary>
    public (string Stdout, string Scores) Run(string mode, string model)
    {
        string scores = Path.Combine(Path.GetDirectoryName(model)!, $"{Path.GetFileNameWithoutExtension(model)}-{mode}-{Guid.NewGuid():N}.txt");
        var result = DotNet.Run(Directory, TimeSpan.FromMinutes(5), Dll, mode, model, scores);
        result.EnsureSuccess($"ConsumerApp {mode} {model}");
        return (result.Output, File.ReadAllText(scores));
    }

    /// <summary>Runs the package readme's C# blocks in <paramref name="folder"/> (its working directory), in a new process.</summary>
    public DotNet.Result RunReadme(string folder) => DotNet.Run(Directory, TimeSpan.FromMinutes(5), Dll, "readme", folder);

    /// <summary>Runs the app and returns its exit code and output without requiring success.</summary>
    public DotNet.Result TryRun(string mode, string model) =>
        DotNet.Run(Directory, TimeSpan.FromMinutes(5), Dll, mode, model, Path.Combine(Path.GetDirectoryName(model)!, Guid.NewGuid().ToString("N") + ".txt"));
}

[CollectionDefinition(Name)]
public sealed class PackageFeedCollection : ICollectionFixture<PackageFeed>
{
    public const string Name = "package feed";
}
