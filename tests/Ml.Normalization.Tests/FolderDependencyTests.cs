using System.Text.RegularExpressions;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests;

/// <summary>
/// The library's folders are its concepts, and data flows one way between them (docs/internals.md, "Layout"):
/// Catalog -> Transforms/BatchNormalize, Transforms/Dropout -> Transforms/Stages -> MlNetInterop -> Persistence, and the
/// stages -> Fitting -> Kernels, Layers -> Kernels. A file may name types of its own folder and of folders below it,
/// never above or beside it, so there are no cycles. Read from the sources (a public type lives in the root namespace
/// whatever its folder, so namespaces alone cannot tell).
/// </summary>
public partial class FolderDependencyTests
{
    // Lower layers first; a folder may depend only on folders of a lower layer.
    private static readonly string[][] Layers =
    [
        ["Kernels", "Persistence"],
        ["Layers", "Fitting", "MlNetInterop"],
        ["Transforms/Stages"],
        ["Transforms/BatchNormalize", "Transforms/Dropout"],
        ["Catalog"],
    ];

    [Fact]
    public void EveryFolder_HasALayer()
    {
        var folders = Sources().Select(s => s.Folder).Distinct().Order().ToArray();
        Assert.Equal(Layers.SelectMany(l => l).Order(), folders);
    }

    [Fact]
    public void Folders_DependOnlyOnLowerLayers_SoThereAreNoCycles()
    {
        var violations = Dependencies()
            .Where(d => Layer(d.From) <= Layer(d.To))
            .Select(d => $"{d.File} ({d.From}) names {d.Type} ({d.To})")
            .Order().ToArray();

        Assert.True(violations.Length == 0, "Dependencies against the layering:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void TheCheck_HasTeeth_ItSeesTheStagesUseOfFitting()
    {
        Assert.Contains(Dependencies(), d => d.From == "Transforms/BatchNormalize" && d.To == "Fitting" && d.Type == "FitState");
        Assert.Contains(Dependencies(), d => d.From == "Layers" && d.To == "Kernels");
    }

    private static int Layer(string folder) => Array.FindIndex(Layers, l => l.Contains(folder));

    private static IEnumerable<(string File, string From, string To, string Type)> Dependencies()
    {
        var sources = Sources();
        // A type name declared in exactly one folder (names such as Options or Cursor, nested in several, are skipped).
        var owner = sources.SelectMany(s => Declaration().Matches(s.Code).Select(m => (Name: m.Groups[1].Value, s.Folder)))
            .Distinct().GroupBy(d => d.Name).Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.Single().Folder);
        foreach (var (file, folder, code) in sources)
        {
            foreach (var name in Identifier().Matches(code).Select(m => m.Value).Distinct())
            {
                if (owner.TryGetValue(name, out var to) && to != folder)
                {
                    yield return (file, folder, to, name);
                }
            }
        }
    }

    private static (string File, string Folder, string Code)[] Sources()
    {
        string root = Path.Combine(ModelRunnerProcess.RepositoryRoot(), "src", "Ml.Normalization");
        return [.. Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => (File: Path.GetRelativePath(root, f).Replace('\\', '/'), Code: WithoutCommentsAndStrings(File.ReadAllText(f))))
            .Select(s => (s.File, Folder: Path.GetDirectoryName(s.File)!.Replace('\\', '/'), s.Code))];
    }

    private static string WithoutCommentsAndStrings(string code) => CommentOrString().Replace(code, " ");

    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record)\s+(?:struct\s+|class\s+)?([A-Z]\w*)")]
    private static partial Regex Declaration();

    [GeneratedRegex(@"\b[A-Z]\w*\b")]
    private static partial Regex Identifier();

    // Line and block comments, verbatim/raw and regular string and char literals (interpolations included wholesale).
    [GeneratedRegex("""//[^\n]*|/\*.*?\*/|@"(?:[^"]|"")*"|\$?"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)+'""", RegexOptions.Singleline)]
    private static partial Regex CommentOrString();
}
