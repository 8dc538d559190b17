using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

/// <summary>
/// The counter-based random source of dropout: whether an element is kept is a pure function of a 64-bit key
/// (seed, pass, row) and the element's index, so masks can be recomputed instead of stored, and parallel cursors
/// agree with a single one.
/// </summary>
/// <remarks>
/// The hash is two rounds of Chris Wellons' "lowbias32" integer finalizer, keyed by the two halves of the key.
/// It is not cryptographic; it passes the statistical checks dropout needs (uniform keep rate, no visible
/// correlation between neighbouring elements or keys).
/// </remarks>
internal static class DropoutMask
{
    /// <summary>The threshold for <c>hash &gt;= threshold</c> to keep an element with probability 1 - <paramref name="dropProbability"/>.</summary>
    public static uint KeepThreshold(double dropProbability) =>
        (uint)Math.Min(uint.MaxValue, Math.Round(dropProbability * 4294967296.0));

    /// <summary>Mixes any number of 64-bit words into one key (SplitMix64 steps).</summary>
    public static ulong Key(ulong a, ulong b, ulong c = 0)
    {
        ulong h = Mix64(a + 0x9E3779B97F4A7C15UL);
        h = Mix64(h ^ (b + 0xD1B54A32D192ED03UL));
        return Mix64(h ^ (c + 0x8CB92BA72F3D8DD7UL));
    }

    /// <summary>The hash of element <paramref name="index"/> under <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(ulong key, uint index)
    {
        uint h = LowBias32(index + (uint)key);
        return LowBias32(h ^ (uint)(key >> 32));
    }

    /// <summary>The hashes of elements <c>firstIndex .. firstIndex + Vector&lt;uint&gt;.Count - 1</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<uint> Hash(ulong key, Vector<uint> indices)
    {
        var h = LowBias32(indices + new Vector<uint>((uint)key));
        return LowBias32(h ^ new Vector<uint>((uint)(key >> 32)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint LowBias32(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB352DU;
        x ^= x >> 15;
        x *= 0x846CA68BU;
        x ^= x >> 16;
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> LowBias32(Vector<uint> x)
    {
        x ^= Vector.ShiftRightLogical(x, 16);
        x *= new Vector<uint>(0x7FEB352DU);
        x ^= Vector.ShiftRightLogical(x, 15);
        x *= new Vector<uint>(0x846CA68BU);
        x ^= Vector.ShiftRightLogical(x, 16);
        return x;
    }

    private static ulong Mix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
