// The run-time half of the seam: CoreCLR lets this assembly use the internal members of these ML.NET
// assemblies (the compiler sees them through build/Publicize.targets). Only MlNetInterop/ may rely on it;
// docs/internals.md lists every internal member used and why there is no public route.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices;

/// <summary>Not in the BCL's public surface; the runtime matches it by name.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
{
    public string AssemblyName { get; } = assemblyName;
}
