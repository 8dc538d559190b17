using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Ml.Normalization.Testing.Docs;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Docs;

/// <summary>
/// Every C# block of the docs compiles, so the docs cannot drift from the API: each <c>```csharp</c> (or <c>```cs</c>)
/// block of README.md, docs/**/*.md and src/Ml.Normalization/PACKAGE.md is one test case, named by its file and the
/// line of its opening fence, compiled with Roslyn against the assemblies this test runs with (ML.NET and its
/// ImageAnalytics, OnnxTransformer and OnnxConverter packages, Ml.Normalization, the .NET runtime).
/// </summary>
/// <remarks>
/// The convention, for whoever writes docs:
/// <list type="bullet">
/// <item>A block is compiled as one C# file, as written. Statements are top-level statements; a block may also be a
/// whole file (usings, a namespace, types) and then compiles as a library.</item>
/// <item>A block states its own usings for the library and ML.NET (<c>using Microsoft.ML;</c>,
/// <c>using Ml.Normalization;</c>, <c>using Ml.Normalization.Layers;</c>, ...), so it can be copied as it is. Only a
/// console app's implicit usings are given: System, System.Collections.Generic, System.IO, System.Linq,
/// System.Net.Http, System.Threading, System.Threading.Tasks.</item>
/// <item>A block may use, without declaring them, the well-known variables of <see cref="Context"/>: <c>ml</c> (an
/// MLContext); the data views <c>data</c>, <c>train</c>, <c>newData</c>, <c>images</c>; <c>imageFolder</c>; the
/// float arrays of the layer examples (<c>x</c>, <c>y</c>, <c>dy</c>, <c>dx</c>, <c>dGamma</c>, <c>dBeta</c>,
/// <c>xTest</c>, <c>yTest</c>); and a trained PyTorch layer's tensors (<c>runningMean</c>, <c>runningVar</c>,
/// <c>weight</c>, <c>bias</c>, <c>eps</c>). A block's own declaration of one of these names hides it.</item>
/// <item><c>= ...</c> before <c>;</c> or <c>,</c> (a value the reader supplies, as in <c>IDataView train = ...;</c>)
/// compiles as <c>= default!</c>.</item>
/// <item>Errors and warnings both fail (nullable on, as in this repository). A block that is not C# (a shell
/// command, program output) is tagged <c>bash</c> or <c>text</c>, never <c>csharp</c>.</item>
/// </list>
/// </remarks>
public sealed class DocSnippetsCompileTests
{
    /// <summary>The hidden part of every compilation: the implicit usings and the well-known variables.</summary>
    internal const string Context = """
        global using global::System;
        global using global::System.Collections.Generic;
        global using global::System.IO;
        global using global::System.Linq;
        global using global::System.Net.Http;
        global using global::System.Threading;
        global using global::System.Threading.Tasks;
        global using static DocSnippetContext;

        internal static class DocSnippetContext
        {
            public static global::Microsoft.ML.MLContext ml => default!;

            public static global::Microsoft.ML.IDataView data => default!;
            public static global::Microsoft.ML.IDataView train => default!;
            public static global::Microsoft.ML.IDataView newData => default!;
            public static global::Microsoft.ML.IDataView images => default!;
            public static string imageFolder => default!;

            public static float[] x => default!;
            public static float[] y => default!;
            public static float[] dy => default!;
            public static float[] dx => default!;
            public static float[] dGamma => default!;
            public static float[] dBeta => default!;
            public static float[] xTest => default!;
            public static float[] yTest => default!;

            public static float[] runningMean => default!;
            public static float[] runningVar => default!;
            public static float[] weight => default!;
            public static float[] bias => default!;
            public static float eps => default!;
        }
        """;

    private static readonly Lazy<MetadataReference[]> References = new(LoadReferences);

    public static TheoryData<string, int> Snippets
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var snippet in FindSnippets())
            {
                data.Add(snippet.File, snippet.Line);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_Compiles(string file, int line)
    {
        var snippet = FindSnippets().Single(s => s.File == file && s.Line == line);
        var problems = Compile(snippet.Code, file, line);
        Assert.True(problems.Count == 0, $"The C# block at {file}:{line} does not compile:\n{string.Join("\n", problems)}");
    }

    [Fact]
    public void TheDocs_HaveSnippets_InEachPlaceAUserReads()
    {
        var files = FindSnippets().Select(s => s.File).ToHashSet();
        Assert.Contains("README.md", files);
        Assert.Contains("src/Ml.Normalization/PACKAGE.md", files);
        Assert.Contains(files, f => f.StartsWith("docs/", StringComparison.Ordinal));
    }

    [Fact]
    public void ABrokenSnippet_Fails()
    {
        // A call to a member that does not exist, and a type used without its using: both must be reported, with the
        // line in the Markdown file.
        Assert.Contains(Compile("using Ml.Normalization.Layers;\n\nvar bn = new BatchNormLayer(features: 4);\nbn.Frobnicate();\n", "broken.md", 10),
            p => p.StartsWith("broken.md:14: error CS1061", StringComparison.Ordinal));
        Assert.Contains(Compile("var bn2d = new SpatialBatchNormLayer(channels: 3);\n", "broken.md", 1),
            p => p.StartsWith("broken.md:2: error CS0246", StringComparison.Ordinal));
        // A warning fails too (here: a possible null dereference under nullable).
        Assert.NotEmpty(Compile("string? s = null;\nConsole.WriteLine(s.Length);\n", "broken.md", 1));
        // And a correct one passes, with a well-known variable, the placeholder and a block that is a whole file.
        Assert.Empty(Compile("using Microsoft.ML;\nusing Ml.Normalization;\n\nIDataView other = ...;\ndouble[] a = ..., b = ...;\nConsole.WriteLine(a.Length + b.Length);\nvar e = ml.Transforms.BatchNormalize(\"Features\");\nvar t = e.Fit(train).Transform(other);\n", "ok.md", 1));
        Assert.Empty(Compile("using Microsoft.ML;\n\nnamespace App;\n\npublic sealed class Scorer(MLContext ml)\n{\n    public MLContext Context => ml;\n}\n", "ok.md", 1));
    }

    [Fact]
    public void TheFenceParser_FindsTaggedBlocksOnly()
    {
        string markdown = "# t\n\n```bash\nls\n```\n\n```csharp\nvar a = 1;\n```\n\n```cs title\nvar b = 2;\n```\n\n```text\nx\n```\n";
        var found = ParseSnippets("t.md", markdown).ToList();
        Assert.Equal([7, 11], found.Select(s => s.Line));
        Assert.Equal("var a = 1;\n", found[0].Code);
    }

    internal sealed record Snippet(string File, int Line, string Code);

    /// <summary>The C# blocks of the documented files, in file order.</summary>
    internal static IEnumerable<Snippet> FindSnippets()
    {
        string root = ModelRunnerProcess.RepositoryRoot();
        var files = new List<string> { Path.Combine(root, "README.md"), Path.Combine(root, "src", "Ml.Normalization", "PACKAGE.md") };
        files.AddRange(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        foreach (string path in files)
        {
            string relative = Path.GetRelativePath(root, path).Replace('\\', '/');
            foreach (var snippet in ParseSnippets(relative, File.ReadAllText(path)))
            {
                yield return snippet;
            }
        }
    }

    /// <summary>Fenced blocks whose info string starts with csharp, cs or c#; Line is the opening fence's (1-based).</summary>
    internal static IEnumerable<Snippet> ParseSnippets(string file, string markdown) =>
        MarkdownCSharpBlocks.Parse(file, markdown).Select(b => new Snippet(b.File, b.Line, b.Code));

    /// <summary>
    /// Compiles one block; returns its errors and warnings as "file:line: error CSxxxx: message", with the line in the
    /// Markdown file (the block's first line is <paramref name="fenceLine"/> + 1).
    /// </summary>
    internal static List<string> Compile(string code, string file, int fenceLine)
    {
        code = Regex.Replace(code, @"=(\s*)\.\.\.(?=\s*[;,])", "=$1default!");
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var snippet = CSharpSyntaxTree.ParseText(code, parse, path: file);
        var context = CSharpSyntaxTree.ParseText(Context, parse, path: "DocSnippetContext.cs");
        bool hasStatements = snippet.GetCompilationUnitRoot().Members.Any(m => m is Microsoft.CodeAnalysis.CSharp.Syntax.GlobalStatementSyntax);
        var options = new CSharpCompilationOptions(
            hasStatements ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary,
            nullableContextOptions: NullableContextOptions.Enable,
            warningLevel: 9999);
        var compilation = CSharpCompilation.Create("DocSnippet", [snippet, context], References.Value, options);
        return [.. compilation.GetDiagnostics()
            .Where(d => d.Severity is DiagnosticSeverity.Error or DiagnosticSeverity.Warning)
            .Select(d => d.Location.SourceTree == snippet
                ? $"{file}:{fenceLine + 1 + d.Location.GetLineSpan().StartLinePosition.Line}: {d.Severity.ToString().ToLowerInvariant()} {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}"
                : $"{file}:{fenceLine}: {d.Severity.ToString().ToLowerInvariant()} {d.Id} (in the hidden context): {d.GetMessage(CultureInfo.InvariantCulture)}")];
    }

    /// <summary>
    /// The runtime's assemblies and this test's dependencies (the trusted platform assemblies, which list the test's
    /// deps.json), plus any other assembly loaded now; not the test or samples assemblies, whose own types (a global
    /// Program, say) could stand in for what a block ought to declare.
    /// </summary>
    private static MetadataReference[] LoadReferences()
    {
        string[] excluded = ["Ml.Normalization.Tests", "Ml.Normalization.Samples", "Ml.Normalization.ModelRunner", "testhost"];
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var trusted = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var loaded = AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location.Length > 0).Select(a => a.Location);
        foreach (string path in trusted.Concat(loaded).Concat([typeof(BatchNormalizingTransformer).Assembly.Location]))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (!excluded.Contains(name, StringComparer.OrdinalIgnoreCase) && !paths.ContainsKey(name) && IsManaged(path))
            {
                paths.Add(name, path);
            }
        }

        Assert.Contains("Microsoft.ML.ImageAnalytics", paths.Keys); // the image examples need it (through the samples)
        return [.. paths.Values.Select(p => MetadataReference.CreateFromFile(p))];
    }

    private static bool IsManaged(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new PEReader(stream);
            return reader.HasMetadata && reader.GetMetadataReader().IsAssembly;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
