using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

namespace Ml.Normalization.Tests.Transforms;

/// <summary>
/// A sparse VBuffer whose indices are not strictly ascending within its length (ML.NET checks them only in its debug
/// builds) is refused by every path that reads one, with an InvalidOperationException naming the input column and the
/// first wrong index: the fits (dense moments, densifying the row, or sparse moments), the centering and scale-only
/// transforms, Dropout's scoring and training passes, and BatchNormalize's training pass. Before, the centering transform
/// threw IndexOutOfRangeException or misplaced values, the sparse fit counted a duplicated index twice, and Dropout passed
/// the row on.
/// </summary>
public class MalformedSparseVectorTests
{
    private const int Slots = 10;
    private const int Rows = 8;
    private const int BadRow = 5;

    public enum Path
    {
        FitDenseFirst,
        FitSparseFirst,
        CenteringTransform,
        ScaleOnlyTransform,
        DropoutScoring,
        DropoutTraining,
        BatchStatisticsTraining,
    }

    /// <summary>The bad row's indices, and what the message says is wrong.</summary>
    public static readonly Dictionary<string, (int[] Indices, string Problem)> Kinds = new()
    {
        ["index equal to the length"] = ([1, Slots], $"index {Slots} outside its {Slots} slots"),
        ["index beyond the length"] = ([1, 12], $"index 12 outside its {Slots} slots"),
        ["negative index"] = ([-1, 3], $"index -1 outside its {Slots} slots"),
        ["unsorted"] = ([2, 9, 7], "index 7 after index 9"),
        ["duplicated"] = ([2, 5, 5], "index 5 twice"),
    };

    public static TheoryData<Path, string> Cases()
    {
        var cases = new TheoryData<Path, string>();
        foreach (var path in Enum.GetValues<Path>())
        {
            foreach (var kind in Kinds.Keys)
            {
                cases.Add(path, kind);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryPath_RefusesTheRow_NamingTheColumnAndTheWrongIndex(Path path, string kind)
    {
        var ml = new MLContext(seed: 1);
        var (indices, problem) = Kinds[kind];
        var bad = View(ml, Good(firstDense: path == Path.FitDenseFirst), indices);

        var error = Assert.Throws<InvalidOperationException>(() => Run(ml, path, bad));

        Assert.Equal($"Column 'Features' gave a malformed sparse vector: expected strictly ascending indices from 0 to {Slots - 1}, got {problem}.", error.Message);
    }

    [Fact]
    public void WellFormedRows_PassEveryPath()
    {
        var ml = new MLContext(seed: 1);
        foreach (var path in Enum.GetValues<Path>())
        {
            Run(ml, path, View(ml, Good(firstDense: path == Path.FitDenseFirst), badIndices: null));
        }
    }

    private static void Run(MLContext ml, Path path, IDataView data)
    {
        var clean = View(ml, Good(firstDense: false), badIndices: null);
        var pair = new[] { new InputOutputColumnPair("Out", "Features") };
        switch (path)
        {
            case Path.FitDenseFirst or Path.FitSparseFirst:
                ml.Transforms.BatchNormalize(pair, new BatchNormalizingEstimator.Options { BatchSize = 4 }).Fit(data);
                break;
            case Path.CenteringTransform:
                Drain(ml.Transforms.BatchNormalize(pair, new BatchNormalizingEstimator.Options { BatchSize = 4 }).Fit(clean).Transform(data));
                break;
            case Path.ScaleOnlyTransform:
                Drain(ml.Transforms.BatchNormalize(pair, new BatchNormalizingEstimator.Options { BatchSize = 4, Center = false }).Fit(clean).Transform(data));
                break;
            case Path.DropoutScoring:
                Drain(ml.Transforms.Dropout("Out", "Features", dropProbability: 0.5f).Fit(clean).Transform(data));
                break;
            case Path.DropoutTraining:
                Drain(ml.Transforms.Dropout("Out", "Features", dropProbability: 0.5f).Fit(clean).TransformForTraining(data));
                break;
            case Path.BatchStatisticsTraining:
                Drain(ml.Transforms.BatchNormalize(pair, new BatchNormalizingEstimator.Options { BatchSize = 4, BatchStatisticsInTraining = true }).Fit(clean).TransformForTraining(data));
                break;
        }
    }

    private static void Drain(IDataView view)
    {
        foreach (var _ in view.GetColumn<VBuffer<float>>("Out"))
        {
        }
    }

    // Sparse rows of two entries each (the first row dense when asked), to be read with one row replaced.
    private static VBuffer<float>[] Good(bool firstDense) =>
        [.. Enumerable.Range(0, Rows).Select(r => firstDense && r == 0
            ? new VBuffer<float>(Slots, Enumerable.Range(0, Slots).Select(j => (float)j).ToArray())
            : new VBuffer<float>(Slots, 2, [1f + r, 2f - r], [r, r + 2]))];

    // The rows, row BadRow with badIndices (one value per index); VBuffer's constructor checks them only in ML.NET's debug builds.
    private static IDataView View(MLContext ml, VBuffer<float>[] rows, int[]? badIndices)
    {
        if (badIndices is not null)
        {
            rows[BadRow] = new VBuffer<float>(Slots, badIndices.Length, [.. badIndices.Select(j => 1f + j)], [.. badIndices]);
        }

        var schema = SchemaDefinition.Create(typeof(SparseData.FloatRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Slots);
        return ml.Data.LoadFromEnumerable(rows.Select(v => new SparseData.FloatRow { Features = v }).ToArray(), schema);
    }
}
