using System.Numerics;

namespace Ml.Normalization.Transforms;

/// <summary>Per-slot <c>y = (x - Mean) * Scale + Offset</c> in a column's own precision; writable per slot.</summary>
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

    public override void SetSlot(int slot, double mean, double variance, double gamma, double beta, double epsilon)
    {
        Mean[slot] = T.CreateTruncating(mean);
        Scale[slot] = T.CreateTruncating(gamma / Math.Sqrt(variance + epsilon));
        Offset[slot] = T.CreateTruncating(beta);
    }
}
