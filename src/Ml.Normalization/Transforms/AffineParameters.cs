using System.Numerics;

namespace Ml.Normalization.Transforms;

/// <summary>
/// Per-slot <c>y = (x - Mean) * Scale + Offset</c> in a column's own precision; writable per slot. A slot whose scale is
/// beyond the type's range applies it as two factors, <c>y = ((x - Mean) * Scale) * Rescale + Offset</c>.
/// </summary>
internal abstract class AffineParameters
{
    /// <summary>Sets slot <paramref name="slot"/> from statistics: scale = gamma / sqrt(variance + epsilon), offset = beta.</summary>
    public abstract void SetSlot(int slot, double mean, double variance, double gamma, double beta, double epsilon);

    public static AffineParameters Create(bool isDouble, int slots) =>
        isDouble ? new AffineParameters<double>(slots) : new AffineParameters<float>(slots);

    /// <summary>The parameters' own affine form (running statistics).</summary>
    public static AffineParameters From(BatchNormalizationParameters parameters, bool isDouble)
    {
        var affine = Create(isDouble, parameters.SlotCount);
        for (int j = 0; j < parameters.SlotCount; j++)
        {
            affine.SetSlot(j, parameters.RunningMean[j], parameters.RunningVariance[j], parameters.Gamma[j], parameters.Beta[j], parameters.Epsilon);
        }

        return affine;
    }
}

internal sealed class AffineParameters<T>(int slots) : AffineParameters
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public T[] Mean { get; } = new T[slots];

    public T[] Scale { get; } = new T[slots];

    public T[] Offset { get; } = new T[slots];

    /// <summary>
    /// Null while every slot's scale is a finite <typeparamref name="T"/> (the usual case: the map is then exactly three
    /// roundings); once a slot's is not, a second factor per slot, 1 for the others (multiplying by 1 is exact).
    /// </summary>
    public T[]? Rescale { get; private set; }

    public override void SetSlot(int slot, double mean, double variance, double gamma, double beta, double epsilon)
    {
        Mean[slot] = T.CreateTruncating(mean);
        Offset[slot] = T.CreateTruncating(beta);
        T scale = T.CreateTruncating(gamma / Math.Sqrt(variance + epsilon));
        if (T.IsFinite(scale))
        {
            Scale[slot] = scale;
            if (Rescale is not null)
            {
                Rescale[slot] = T.One;
            }

            return;
        }

        // A large gamma over a (near) zero variance: the scale is beyond T's range, and (x - mean) = 0 would give
        // 0 * infinity = NaN instead of beta. Apply it as two finite factors of sqrt(|scale|) each (computed without
        // forming the scale, which may overflow double too): the mean still maps to beta, and other values overflow only
        // where the true product does (unless even sqrt(|scale|) is beyond T, when the factors saturate).
        double root = Math.Sqrt(Math.Abs(gamma)) / Math.Pow(variance + epsilon, 0.25);
        T factor = T.Min(T.CreateTruncating(root), T.BitDecrement(T.PositiveInfinity)); // at most T's largest finite value
        Scale[slot] = gamma < 0 ? -factor : factor;
        if (Rescale is null)
        {
            Rescale = new T[Scale.Length];
            Rescale.AsSpan().Fill(T.One);
        }

        Rescale[slot] = factor;
    }
}
