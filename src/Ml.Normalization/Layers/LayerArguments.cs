using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>The checks the batch-norm layers' constructors share, so they refuse the same values with the same words.</summary>
internal static class LayerArguments
{
    /// <summary>Throws unless <paramref name="momentum"/> is in [0, 1) and <paramref name="epsilon"/> is positive and finite.</summary>
    public static void CheckMomentumAndEpsilon(float momentum, float epsilon)
    {
        if (!(momentum >= 0f && momentum < 1f))
        {
            ThrowHelper.ThrowOutOfRange(nameof(momentum), momentum, "in [0, 1)");
        }

        if (!(epsilon > 0f) || float.IsInfinity(epsilon))
        {
            ThrowHelper.ThrowOutOfRange(nameof(epsilon), epsilon, "positive and finite");
        }
    }
}
