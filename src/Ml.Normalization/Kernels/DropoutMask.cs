using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ml.Normalization.Kernels;

/// <summary>
/// The counter-based random source of dropout: whether an element is kept is a pure function of a 64-bit key
/// (seed, pass, row) and the element's index, so masks can be recomputed instead of stored, and parallel cursors
/// agree with a single one.
/// </summary>
/// <remarks>
/// The hash is one round of Chris Wellons' "lowbias32" integer finalizer (bias 0.17%) over the index offset by the
/// key's low half and xored with its high half; keys themselves are SplitMix64 mixes of (seed, pass, row), so two rows'
/// masks are unrelated unless their 64-bit keys share a half.
/// Each element is decided by its own 32-bit hash, kept where <c>hash(index) &gt;= round(p * 2^32)</c>: p is resolved to
/// 2^-32 (exactly, for a <see cref="float"/> p of at least 2^-9, which is a multiple of 2^-32), and any p &gt; 0 drops
/// with probability at least 2^-32. For a fixed key the hash is a bijection of the 32-bit index (lowbias32 is one), so
/// over all 2^32 indices exactly <c>round(p * 2^32)</c> elements are dropped.
/// It is not cryptographic; it passes the statistical checks dropout needs (uniform keep rate, no visible
/// correlation between neighbouring elements or keys).
/// </remarks>
internal static class DropoutMask
{
    /// <summary>
    /// The threshold for <c>Hash(key, i) &gt;= threshold</c> to keep an element with probability 1 - <paramref name="dropProbability"/>:
    /// <c>round(p * 2^32)</c>, at least 1 for p &gt; 0 (so every positive p drops something) and at most 2^32 - 1 (so
    /// every p &lt; 1 keeps something); 0 for p = 0, which keeps everything.
    /// </summary>
    public static uint KeepThreshold(double dropProbability) =>
        dropProbability > 0 ? (uint)Math.Clamp(Math.Round(dropProbability * 4294967296.0), 1.0, uint.MaxValue) : 0;

    /// <summary>Whether element <paramref name="index"/> is kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Keep(ulong key, uint index, uint keepThreshold) => Hash(key, index) >= keepThreshold;

    /// <summary>
    /// Mixes up to three 64-bit words into one key with SplitMix64 steps: (seed, pass, row) for the stage, (seed, call)
    /// for the layer, which leaves <paramref name="c"/> at 0.
    /// </summary>
    public static ulong Key(ulong a, ulong b, ulong c = 0)
    {
        ulong h = Mix64(a + 0x9E3779B97F4A7C15UL);
        h = Mix64(h ^ (b + 0xD1B54A32D192ED03UL));
        return Mix64(h ^ (c + 0x8CB92BA72F3D8DD7UL));
    }

    /// <summary>The hash of element <paramref name="index"/> under <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(ulong key, uint index) => LowBias32((index + (uint)key) ^ (uint)(key >> 32));

    /// <summary>
    /// <see cref="Hash(ulong, uint)"/> of each lane of <paramref name="indices"/> under <paramref name="key"/>: lane k is
    /// <c>Hash(key, indices[k])</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<uint> Hash(ulong key, Vector<uint> indices) =>
        LowBias32((indices + new Vector<uint>((uint)key)) ^ new Vector<uint>((uint)(key >> 32)));

    /// <summary>The same with 512-bit vectors: lane k is <c>Hash(key, indices[k])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Hash(ulong key, Vector512<uint> indices)
    {
        var x = (indices + Vector512.Create((uint)key)) ^ Vector512.Create((uint)(key >> 32));
        x ^= Vector512.ShiftRightLogical(x, 16);
        x *= Vector512.Create(0x7FEB352DU);
        x ^= Vector512.ShiftRightLogical(x, 15);
        x *= Vector512.Create(0x846CA68BU);
        x ^= Vector512.ShiftRightLogical(x, 16);
        return x;
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
