using System.Text.RegularExpressions;

namespace Ml.Normalization.Testing.Docs;

/// <summary>A fenced C# block of a Markdown file; <see cref="Line"/> is its opening fence's line (1-based).</summary>
public sealed record CSharpBlock(string File, int Line, string Code);

/// <summary>
/// The C# blocks of Markdown, shared by the docs' compile test (tests/Ml.Normalization.Tests/Docs) and the package
/// tests, which compile and run PACKAGE.md's blocks in a user's app: fenced blocks whose info string starts with
/// csharp, cs or c#.
/// </summary>
public static class MarkdownCSharpBlocks
{
    private static readonly string[] CSharpTags = ["csharp", "cs", "c#"];

    /// <summary>The C# blocks of <paramref name="markdown"/>, in file order, named by <paramref name="file"/>.</summary>
    public static IEnumerable<CSharpBlock> Parse(string file, string markdown)
    {
        string[] lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var open = Regex.Match(lines[i], @"^(?<indent> {0,3})(?<fence>`{3,}|~{3,})\s*(?<info>.*)$");
            if (!open.Success)
            {
                continue;
            }

            string fence = open.Groups["fence"].Value;
            int indent = open.Groups["indent"].Length;
            string tag = open.Groups["info"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            int start = i;
            var body = new List<string>();
            for (i++; i < lines.Length && !IsClosingFence(lines[i], fence); i++)
            {
                body.Add(lines[i].Length >= indent && lines[i][..indent].Trim().Length == 0 ? lines[i][indent..] : lines[i].TrimStart());
            }

            if (CSharpTags.Contains(tag.ToLowerInvariant()))
            {
                yield return new CSharpBlock(file, start + 1, string.Concat(body.Select(l => l + "\n")));
            }
        }
    }

    private static bool IsClosingFence(string line, string fence)
    {
        string trimmed = line.Trim();
        return trimmed.Length >= fence.Length && trimmed.All(c => c == fence[0]);
    }
}
