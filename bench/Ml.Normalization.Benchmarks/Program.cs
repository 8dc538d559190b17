using System.Reflection;
using BenchmarkDotNet.Running;

// The ML.NET these benchmarks run on: MLNetVersion (Directory.Build.props), e.g. `MLNetVersion=6.0.0 dotnet run ...`.
// As an environment variable it reaches the builds BenchmarkDotNet starts for each benchmark process too.
Console.WriteLine("ML.NET " + typeof(Microsoft.ML.MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
