using System.Globalization;
using System.IO.Compression;
using Microsoft.ML.Data;

namespace Ml.Normalization.Samples;

/// <summary>One row of <c>Data/breast_cancer.csv</c>, as ML.NET's text loader reads it.</summary>
public sealed class BreastCancerRow
{
    /// <summary>The 30 measurements, in the order of <see cref="SampleData.BreastCancerFeatureNames"/>.</summary>
    [LoadColumn(0, 29), VectorType(30)]
    public float[] Features { get; set; } = [];

    /// <summary>The file's label: true (1) = benign, false (0) = malignant.</summary>
    [LoadColumn(30)]
    public bool Label { get; set; }
}

/// <summary>The data sets shipped in <c>Data/</c> (see Data/README.md for source and licence).</summary>
public static class SampleData
{
    /// <summary>The folder the csproj copies the data to, next to the app (or the test assembly).</summary>
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Data");

    public static string BreastCancerPath => Path.Combine(Directory, "breast_cancer.csv");

    public static string DigitsPath => Path.Combine(Directory, "digits.csv.gz");

    /// <summary>scikit-learn's names of the 30 columns: 10 measurements as mean, standard error and worst value.</summary>
    public static IReadOnlyList<string> BreastCancerFeatureNames { get; } = BuildFeatureNames();

    /// <summary>
    /// Reads <c>digits.csv.gz</c>: 1797 rows of 64 pixel counts (0..16) and a label 0..9. The pixels come back
    /// row-major in one array (rows x 64), as raw counts: the caller decides on any scaling.
    /// </summary>
    public static (float[] Pixels, int[] Labels) LoadDigits()
    {
        var pixels = new List<float>(1797 * 64);
        var labels = new List<int>(1797);
        using var gzip = new GZipStream(File.OpenRead(DigitsPath), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            var fields = line.Split(',');
            if (fields.Length != 65)
            {
                throw new InvalidDataException($"{DigitsPath}: expected 65 fields (64 pixels and a label), got {fields.Length}.");
            }

            for (int i = 0; i < 64; i++)
            {
                pixels.Add(float.Parse(fields[i], CultureInfo.InvariantCulture));
            }

            labels.Add(int.Parse(fields[64], CultureInfo.InvariantCulture));
        }

        return ([.. pixels], [.. labels]);
    }

    private static string[] BuildFeatureNames()
    {
        string[] measurements = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
            "concave points", "symmetry", "fractal dimension"];
        return [.. measurements.Select(m => $"mean {m}"), .. measurements.Select(m => $"{m} error"), .. measurements.Select(m => $"worst {m}")];
    }
}
