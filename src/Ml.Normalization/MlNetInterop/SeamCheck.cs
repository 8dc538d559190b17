using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// Verifies, once per process, that the loaded ML.NET has every type and member this library binds to, so that an
/// ML.NET release that removed an internal we use fails with one clear <see cref="NotSupportedException"/> at the
/// first catalog call or model load, not with a <see cref="MissingMethodException"/> from deep inside a fit or a load.
/// </summary>
/// <remarks>
/// <para>The list is not written by hand: <see cref="Bindings"/> reads this assembly's own metadata (its TypeRef and
/// MemberRef tables), so it is exactly what the compiled code references in ML.NET's assemblies, internal or public,
/// and cannot drift from it. Each binding is looked up by name in the loaded assembly and then resolved through its
/// metadata token by the runtime's own binder, which also checks the signature.</para>
/// <para>The gates call <see cref="EnsureCompatible"/> before any code that names an ML.NET internal is compiled:
/// the catalog extensions (through <see cref="MlNetEnvironment.Of"/> or directly) and the model loaders
/// (<see cref="StageLoader{TStage}"/>). Every route to one of our transformers passes one of them. A removed interface that
/// a public transformer implements is out of any check's reach: the runtime refuses to load the type first.</para>
/// </remarks>
internal static class SeamCheck
{
    /// <summary>One type or member of ML.NET that this assembly references.</summary>
    /// <param name="Assembly">The ML.NET assembly the reference names, e.g. <c>Microsoft.ML.Data</c>.</param>
    /// <param name="TypeName">The type's full name, nested types joined with <c>+</c>.</param>
    /// <param name="MemberName">The member's name (<c>.ctor</c> for constructors); null for a type reference.</param>
    /// <param name="Token">The metadata token in this assembly, resolved by the runtime; 0 to look up by name only.</param>
    internal readonly record struct Binding(string Assembly, string TypeName, string? MemberName, int Token)
    {
        public override string ToString() => MemberName is null ? $"type {TypeName} ({Assembly})" : $"{TypeName}.{MemberName} ({Assembly})";
    }

    /// <summary>Every ML.NET type and member this assembly references, in metadata order.</summary>
    internal static IReadOnlyList<Binding> Bindings { get; } = ReadBindings(typeof(SeamCheck).Assembly);

    private static readonly Lazy<string?> FirstProblem = new(() => FindFirstMissing(Bindings), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Throws if the loaded ML.NET lacks a type or member the library binds to. Checks once per process.</summary>
    /// <exception cref="NotSupportedException">The loaded ML.NET is not one this library can run on.</exception>
    public static void EnsureCompatible()
    {
        if (FirstProblem.Value is { } missing)
        {
            throw Unsupported(missing);
        }
    }

    /// <summary>The exception <see cref="EnsureCompatible"/> throws for <paramref name="bindings"/>, or null if all resolve.</summary>
    internal static NotSupportedException? Check(IEnumerable<Binding> bindings) =>
        FindFirstMissing(bindings) is { } missing ? Unsupported(missing) : null;

    /// <summary>The loaded ML.NET's version, as its assemblies state it (e.g. 5.0.1).</summary>
    internal static string LoadedMlNetVersion
    {
        get
        {
            var informational = typeof(Microsoft.ML.MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            return informational is null ? "unknown" : informational.Split('+')[0];
        }
    }

    /// <summary>The supported ML.NET range and the versions CI runs, as the build recorded them (Directory.Build.props).</summary>
    internal static (string Range, string Tested) SupportedMlNet
    {
        get
        {
            var metadata = typeof(SeamCheck).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
            return (metadata.GetValueOrDefault("MLNetSupportedRange") ?? "unknown", metadata.GetValueOrDefault("MLNetTestedVersions") ?? "unknown");
        }
    }

    private static NotSupportedException Unsupported(string missing)
    {
        var (range, tested) = SupportedMlNet;
        string ours = typeof(SeamCheck).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";
        return new NotSupportedException(
            $"Ml.Normalization {ours} supports ML.NET {range} (tested on {tested.Replace(";", ", ", StringComparison.Ordinal)}), " +
            $"but the loaded ML.NET is {LoadedMlNetVersion} and lacks {missing}, which this library binds to. " +
            $"Use a Microsoft.ML version in {range}, or a version of Ml.Normalization that supports ML.NET {LoadedMlNetVersion}.");
    }

    private static string? FindFirstMissing(IEnumerable<Binding> bindings)
    {
        foreach (var binding in bindings)
        {
            if (!Resolves(binding))
            {
                return binding.ToString();
            }
        }

        return null;
    }

    private static bool Resolves(Binding binding)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        Type? type;
        try
        {
            type = System.Reflection.Assembly.Load(binding.Assembly).GetType(binding.TypeName, throwOnError: false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return false;
        }

        if (type is null)
        {
            return false;
        }

        if (binding.MemberName is { } name && !SelfBasesAndInterfaces(type).Any(t => t.GetMember(name, all).Length > 0))
        {
            return false;
        }

        if (binding.Token == 0)
        {
            return true;
        }

        try
        {
            var module = typeof(SeamCheck).Module;
            _ = binding.MemberName is null ? module.ResolveType(binding.Token) : module.ResolveMember(binding.Token);
            return true;
        }
        catch (Exception ex) when (ex is MissingMemberException or TypeLoadException or FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            // A member of a generic type instantiated over our own type parameters: the runtime needs a generic
            // context to resolve it, so the name lookup above is the check.
            return true;
        }
    }

    private static IEnumerable<Type> SelfBasesAndInterfaces(Type type)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            yield return t;
        }

        foreach (var i in type.GetInterfaces())
        {
            yield return i;
        }
    }

    private static unsafe IReadOnlyList<Binding> ReadBindings(Assembly assembly)
    {
        if (!assembly.TryGetRawMetadata(out byte* blob, out int length))
        {
            throw new InvalidOperationException($"The metadata of {assembly.GetName().Name} cannot be read.");
        }

        var reader = new MetadataReader(blob, length);
        var bindings = new List<Binding>();
        foreach (var handle in reader.TypeReferences)
        {
            if (MlNetTypeName(reader, handle) is { } type)
            {
                bindings.Add(new Binding(type.Assembly, type.Name, null, MetadataTokens.GetToken(handle)));
            }
        }

        foreach (var handle in reader.MemberReferences)
        {
            var member = reader.GetMemberReference(handle);
            var parent = member.Parent.Kind switch
            {
                HandleKind.TypeReference => MlNetTypeName(reader, (TypeReferenceHandle)member.Parent),
                HandleKind.TypeSpecification => GenericDefinitionName(reader, (TypeSpecificationHandle)member.Parent),
                _ => null,
            };
            if (parent is { } p)
            {
                bindings.Add(new Binding(p.Assembly, p.Name, reader.GetString(member.Name), MetadataTokens.GetToken(handle)));
            }
        }

        return bindings;
    }

    private static (string Assembly, string Name)? GenericDefinitionName(MetadataReader reader, TypeSpecificationHandle handle)
    {
        var signature = reader.GetBlobReader(reader.GetTypeSpecification(handle).Signature);
        if (signature.ReadSignatureTypeCode() != SignatureTypeCode.GenericTypeInstance)
        {
            return null;
        }

        _ = signature.ReadSignatureTypeCode(); // class or value type
        var definition = signature.ReadTypeHandle();
        return definition.Kind == HandleKind.TypeReference ? MlNetTypeName(reader, (TypeReferenceHandle)definition) : null;
    }

    /// <summary>The full name and assembly of a type reference into an ML.NET assembly; null for any other.</summary>
    private static (string Assembly, string Name)? MlNetTypeName(MetadataReader reader, TypeReferenceHandle handle)
    {
        var type = reader.GetTypeReference(handle);
        var scope = type.ResolutionScope;
        string name = reader.GetString(type.Name);
        if (scope.Kind == HandleKind.TypeReference)
        {
            return MlNetTypeName(reader, (TypeReferenceHandle)scope) is { } outer ? (outer.Assembly, $"{outer.Name}+{name}") : null;
        }

        if (scope.Kind != HandleKind.AssemblyReference)
        {
            return null;
        }

        string assembly = reader.GetString(reader.GetAssemblyReference((AssemblyReferenceHandle)scope).Name);
        if (!assembly.StartsWith("Microsoft.ML", StringComparison.Ordinal))
        {
            return null;
        }

        string ns = reader.GetString(type.Namespace);
        return (assembly, ns.Length == 0 ? name : $"{ns}.{name}");
    }
}
