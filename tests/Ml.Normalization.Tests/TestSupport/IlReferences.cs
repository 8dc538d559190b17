using System.Reflection;
using System.Reflection.Emit;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>Reads the IL of the library's methods for the ML.NET members they reference (SeamBoundaryTests, SeamCheckTests).</summary>
internal static class IlReferences
{
    private static readonly Dictionary<short, OpCode> OneByte = [];
    private static readonly Dictionary<short, OpCode> TwoByte = [];

    static IlReferences()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)field.GetValue(null)!;
            (op.Size == 1 ? OneByte : TwoByte)[op.Value] = op;
        }
    }

    /// <summary>Every non-public ML.NET method or field that code in <paramref name="library"/> references.</summary>
    public static HashSet<MemberInfo> HiddenMlNetMembers(Assembly library)
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        return library.GetTypes()
            .SelectMany(t => t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)))
            .SelectMany(ReferencedMembers)
            .Where(m => m is MethodBase or FieldInfo && IsHiddenMlNet(m))
            .ToHashSet();
    }

    public static bool IsMlNet(Assembly assembly) => assembly.GetName().Name?.StartsWith("Microsoft.ML", StringComparison.Ordinal) == true;

    public static bool IsHiddenMlNet(MemberInfo member) => member switch
    {
        Type t => IsMlNet(t.Assembly) && !t.IsVisible,
        MethodBase m => m.DeclaringType is { } d && IsMlNet(d.Assembly) && (!d.IsVisible || !(m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly)),
        FieldInfo f => f.DeclaringType is { } d && IsMlNet(d.Assembly) && (!d.IsVisible || !(f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly)),
        _ => false,
    };

    public static IEnumerable<MemberInfo> ReferencedMembers(MethodBase method)
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
