// The package readme's C# blocks in the user's app. PackageFeed writes each block as a method of ReadmeBlocks into
// ReadmeBlocks/ before the build (tests/Ml.Normalization.PackageTests/ReadmeBlockSources.cs), so the build compiles
// them against the packed package; `ConsumerApp readme <folder>` runs them in order, in that folder.
using Microsoft.ML;

internal static partial class ReadmeBlocks
{
    /// <summary>Runs every block that can run, in the readme's order; one line per block: "ran", "compiled" or "failed".</summary>
    public static int Run(string folder)
    {
        Directory.SetCurrentDirectory(folder);
        int failed = 0;
        foreach (var (name, run) in All)
        {
            if (run is null)
            {
                Console.WriteLine($"compiled {name}");
                continue;
            }

            try
            {
                run();
                Console.WriteLine($"ran {name}");
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"failed {name}: {e}");
            }
        }

        return failed == 0 ? 0 : 1;
    }
}

/// <summary>
/// The well-known variables of the readme's blocks (the docs' convention), with real values: data views with a
/// "Features" vector and a "Label" (the app's seeded rows), and the images the tests put in the folder's images/.
/// </summary>
internal static class ReadmeContext
{
    public static MLContext ml { get; } = new(seed: 1);

    public static IDataView train => ml.Data.LoadFromEnumerable(Data.Rows(count: 600, seed: 1));

    public static IDataView data => ml.Data.LoadFromEnumerable(Data.Rows(count: 500, seed: 2));

    public static IDataView newData => ml.Data.LoadFromEnumerable(Data.Rows(count: 300, seed: 3));

    public static string imageFolder => Path.GetFullPath("images");

    /// <summary>A "Path" column: the files of <see cref="imageFolder"/>, relative to it.</summary>
    public static IDataView images => ml.Data.LoadFromEnumerable(
        Directory.GetFiles(imageFolder).Order(StringComparer.Ordinal).Select(f => new ImageFile { Path = Path.GetFileName(f) }).ToArray());

    public sealed class ImageFile
    {
        public string Path { get; set; } = "";
    }
}
