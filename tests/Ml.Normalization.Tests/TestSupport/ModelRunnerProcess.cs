using System.Diagnostics;
using System.Reflection;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>Runs tests/Ml.Normalization.ModelRunner as a separate process (built by the test project's reference).</summary>
internal static class ModelRunnerProcess
{
    public static (int ExitCode, string Output) Run(params string[] args)
    {
        // Built by the test project's reference, in the output folder of this build's ML.NET leg (Directory.Build.props).
        var dll = typeof(ModelRunnerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelRunnerPath").Value!;
        Assert.True(File.Exists(dll), $"ModelRunner not built at {dll}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("ModelRunner did not finish in 2 minutes");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ml.Normalization.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root (Ml.Normalization.sln) not found");
    }
}
