using System.Reflection;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// The library compiles against publicized ML.NET references, so the compiler cannot stop code outside
/// MlNetInterop/ from using an ML.NET internal. This test does: it reads the IL of every method outside the seam
/// and fails on any call, field access or type token that names a non-public ML.NET member, and on any type outside
/// the seam that derives from or implements a non-public ML.NET type.
/// </summary>
public class SeamBoundaryTests
{
    private const string SeamNamespace = "Ml.Normalization.MlNetInterop";
    private const string PersistenceNamespace = "Ml.Normalization.Persistence";

    // The one internal a stage must name itself: EstimatorChain.Fit asks the transformer object whether it
    // implements this interface, so no helper can implement it on the stage's behalf (docs/internals.md).
    private static readonly HashSet<string> AllowedInterfaces = ["Microsoft.ML.ITransformerWithDifferentMappingAtTrainingTime"];

    [Fact]
    public void CodeOutsideTheSeam_UsesOnlyPublicMlNetApi()
    {
        var library = typeof(BatchNormalizingTransformer).Assembly;
        var violations = new SortedSet<string>();
        foreach (var type in library.GetTypes().Where(t => !IsInSeam(t)))
        {
            if (type.BaseType is { } baseType && IlReferences.IsHiddenMlNet(baseType))
            {
                violations.Add($"{type.FullName} derives from {baseType.FullName}");
            }

            foreach (var iface in type.GetInterfaces().Where(i => IlReferences.IsHiddenMlNet(i) && !AllowedInterfaces.Contains(i.FullName!) && !(type.BaseType?.GetInterfaces().Contains(i) ?? false)))
            {
                violations.Add($"{type.FullName} implements {iface.FullName}");
            }

            const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                foreach (var member in IlReferences.ReferencedMembers(method))
                {
                    if (IlReferences.IsHiddenMlNet(member))
                    {
                        violations.Add($"{type.FullName}.{method.Name} uses {member.DeclaringType?.FullName}.{member.Name}");
                    }
                }
            }
        }

        Assert.True(violations.Count == 0, "ML.NET internals used outside MlNetInterop/:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void TheCheck_HasTeeth_ItSeesTheSeamsOwnInternalCalls()
    {
        // The seam itself must use internals (that is its job); the scanner must see them there.
        var seam = typeof(BatchNormalizingTransformer).Assembly.GetTypes().Where(IsInSeam);
        var found = seam.SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .SelectMany(IlReferences.ReferencedMembers).Where(IlReferences.IsHiddenMlNet).Select(m => m.Name).ToHashSet();
        Assert.Contains("GetEnvironment", found); // CatalogUtils.GetEnvironment
        Assert.Contains("SetVersionInfo", found); // ModelSaveContext.SetVersionInfo
    }

    [Fact]
    public void TheSeam_DependsOnNoOtherPartOfTheLibrary()
    {
        // Dependencies run one way: Catalog -> Transforms -> MlNetInterop -> Persistence. The seam knows ML.NET, itself and
        // the body format it reads through (Persistence/, which knows no ML.NET); stages reach it through IPersistedStage,
        // StageLoader and ExportableDataView, never the other way round.
        var library = typeof(BatchNormalizingTransformer).Assembly;
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var violations = new SortedSet<string>();
        foreach (var type in library.GetTypes().Where(IsInSeam))
        {
            var named = new List<Type>(type.GetInterfaces());
            if (type.BaseType is { } baseType)
            {
                named.Add(baseType);
            }

            named.AddRange(type.GetFields(all).Select(f => f.FieldType));
            named.AddRange(type.GetProperties(all).Select(p => p.PropertyType));
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                named.AddRange(method.GetParameters().Select(p => p.ParameterType));
                if (method is MethodInfo m)
                {
                    named.Add(m.ReturnType);
                }

                named.AddRange(IlReferences.ReferencedMembers(method).Select(r => r as Type ?? r.DeclaringType).OfType<Type>());
            }

            foreach (var other in named.SelectMany(Flatten).Where(t => t.Assembly == library && !IsInSeam(t) && t.Namespace != PersistenceNamespace && !t.IsGenericParameter && !IsCompilerGenerated(t)))
            {
                violations.Add($"{type.FullName} names {other.FullName}");
            }
        }

        Assert.True(violations.Count == 0, "MlNetInterop/ depends on other parts of the library:\n" + string.Join("\n", violations));
    }

    private static bool IsInSeam(Type type)
    {
        for (var t = type; t is not null; t = t.DeclaringType)
        {
            if (t.Namespace == SeamNamespace)
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<Type> Flatten(Type type)
    {
        yield return type;
        if (type.HasElementType)
        {
            foreach (var t in Flatten(type.GetElementType()!))
            {
                yield return t;
            }
        }

        if (type.IsGenericType)
        {
            foreach (var t in type.GetGenericArguments().SelectMany(Flatten))
            {
                yield return t;
            }
        }
    }

    private static bool IsCompilerGenerated(Type type) =>
        type.FullName?.StartsWith("<", StringComparison.Ordinal) == true || type.Namespace is null;
}
