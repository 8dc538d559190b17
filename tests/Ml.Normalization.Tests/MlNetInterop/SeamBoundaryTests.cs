using System.Reflection;
using System.Reflection.Emit;

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

    // The one internal a stage must name itself: EstimatorChain.Fit asks the transformer object whether it
    // implements this interface, so no helper can implement it on the stage's behalf (docs/internals.md).
    private static readonly HashSet<string> AllowedInterfaces = ["Microsoft.ML.ITransformerWithDifferentMappingAtTrainingTime"];

    private static readonly Dictionary<short, OpCode> OneByte = [];
    private static readonly Dictionary<short, OpCode> TwoByte = [];

    static SeamBoundaryTests()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)field.GetValue(null)!;
            (op.Size == 1 ? OneByte : TwoByte)[op.Value] = op;
        }
    }

    [Fact]
    public void CodeOutsideTheSeam_UsesOnlyPublicMlNetApi()
    {
        var library = typeof(BatchNormalizingTransformer).Assembly;
        var violations = new SortedSet<string>();
        foreach (var type in library.GetTypes().Where(t => !IsInSeam(t)))
        {
            if (type.BaseType is { } baseType && IsHiddenMlNet(baseType))
            {
                violations.Add($"{type.FullName} derives from {baseType.FullName}");
            }

            foreach (var iface in type.GetInterfaces().Where(i => IsHiddenMlNet(i) && !AllowedInterfaces.Contains(i.FullName!) && !(type.BaseType?.GetInterfaces().Contains(i) ?? false)))
            {
                violations.Add($"{type.FullName} implements {iface.FullName}");
            }

            const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                foreach (var member in ReferencedMembers(method))
                {
                    if (IsHiddenMlNet(member))
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
            .SelectMany(ReferencedMembers).Where(IsHiddenMlNet).Select(m => m.Name).ToHashSet();
        Assert.Contains("GetEnvironment", found); // CatalogUtils.GetEnvironment
        Assert.Contains("SetVersionInfo", found); // ModelSaveContext.SetVersionInfo
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

    private static bool IsMlNet(Assembly assembly) => assembly.GetName().Name?.StartsWith("Microsoft.ML", StringComparison.Ordinal) == true;

    private static bool IsHiddenMlNet(MemberInfo member) => member switch
    {
        Type t => IsMlNet(t.Assembly) && !t.IsVisible,
        MethodBase m => m.DeclaringType is { } d && IsMlNet(d.Assembly) && (!d.IsVisible || !(m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly)),
        FieldInfo f => f.DeclaringType is { } d && IsMlNet(d.Assembly) && (!d.IsVisible || !(f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly)),
        _ => false,
    };

    private static IEnumerable<MemberInfo> ReferencedMembers(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            OpCode op;
            if (il[i] == 0xFE)
            {
                op = TwoByte[unchecked((short)(0xFE00 | il[i + 1]))];
                i += 2;
            }
            else
            {
                op = OneByte[il[i]];
                i += 1;
            }

            int operandSize = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, i)),
                _ => 4,
            };

            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                MemberInfo? member = null;
                try
                {
                    member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArgs, methodArgs);
                }
                catch (ArgumentException)
                {
                    // A token whose generic context cannot be rebuilt here; such tokens name our own generic code.
                }

                if (member is not null)
                {
                    yield return member;
                    if (member is MethodBase { DeclaringType: { } owner })
                    {
                        yield return owner;
                    }
                }
            }

            i += operandSize;
        }
    }
}
