using System.Diagnostics;
using System.Numerics;
using Ml.Normalization.Fitting;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>Which way an affine form maps: batch normalization, or its inverse.</summary>
internal enum AffineDirection
{
    /// <summary><c>y = (x - mean) * gamma / sqrt(variance + epsilon) + beta</c>.</summary>
    Forward,

    /// <summary>
    /// <c>x = (y - beta) * sqrt(variance + epsilon) / gamma + mean</c>: the same affine form with the roles of mean and
    /// beta swapped and the reciprocal scale, so the forward's kernels, getters and ONNX nodes serve it unchanged.
    /// </summary>
    Inverse,
}

/// <summary>
/// Per-slot <c>y = (x - Mean) * Scale + Offset</c> in a column's own precision; writable per slot. A slot whose scale is
/// beyond the type's range applies it as two factors, <c>y = ((x - Mean) * Scale) * Rescale + Offset</c>. A pure
/// standardization's parameters divide instead, <c>y = (x - Mean) / Scale</c> (<see cref="AffineParameters{T}.Divides"/>).
/// </summary>
internal abstract class AffineParameters
{
    /// <summary>Sets slot <paramref name="slot"/> from statistics: scale = gamma / sqrt(variance + epsilon), offset = beta.</summary>
    public abstract void SetSlot(int slot, double mean, double variance, double gamma, double beta, double epsilon);

    public static AffineParameters Create(bool isDouble, int slots) =>
        isDouble ? new AffineParameters<double>(slots) : new AffineParameters<float>(slots);

    /// <summary>
    /// The parameters' own affine form (running statistics), one entry per unit (slot or channel); scale-only parameters
    /// (<see cref="BatchNormalizationParameters.Centered"/> false) get mean 0 and offset 0. <see cref="AffineDirection.Inverse"/>
    /// gives the inverse map: mean = beta, scale = sqrt(variance + epsilon) / gamma, offset = mean (gamma must not be 0).
    /// Computed once per parameters, precision and direction, and shared: read-only.
    /// </summary>
    public static AffineParameters From(BatchNormalizationParameters parameters, bool isDouble, AffineDirection direction = AffineDirection.Forward) =>
        parameters.Scoring(isDouble, direction, static (p, isDouble, direction) => isDouble ? AffineParameters<double>.Compute(p, direction) : AffineParameters<float>.Compute(p, direction));

    /// <summary>
    /// The parameters' affine form for a column of <paramref name="layout"/>: one entry per slot, except for the centering
    /// getter without a rescale: channels first keeps one entry per channel (applied plane by plane), channels last one
    /// period of the interleaved channels (<see cref="Period"/> entries, repeating along the row).
    /// </summary>
    public static AffineParameters From(BatchNormalizationParameters parameters, bool isDouble, StatisticsLayout layout, AffineDirection direction = AffineDirection.Forward)
    {
        var perUnit = From(parameters, isDouble, direction);
        if (!layout.HasChannels)
        {
            return perUnit;
        }

        bool compact = !perUnit.HasRescale && parameters.Centered;
        return compact && layout.Layout == ChannelLayout.ChannelsFirst ? perUnit
            : compact && Period(layout, isDouble) is int period and > 0 ? perUnit.Repeat(layout.Units, period)
            : perUnit.Expand(layout);
    }

    /// <summary>
    /// The length of a channels-last row's repeating block of parameters for the vector path: the least common multiple
    /// of the channel count and the vector width (24 for RGB floats with 8 lanes), so every vector of a block sees the
    /// same channels in every block; 0 when that is longer than the row, or beyond a few kilobytes.
    /// </summary>
    public static int Period(StatisticsLayout layout, bool isDouble)
    {
        int lanes = isDouble ? Vector<double>.Count : Vector<float>.Count;
        long period = (long)layout.Units / (long)BigInteger.GreatestCommonDivisor(layout.Units, lanes) * lanes;
        return period <= layout.Slots && period <= 1024 ? (int)period : 0;
    }

    /// <summary>The per-unit parameters (<paramref name="units"/> entries) repeated to <paramref name="length"/> entries.</summary>
    public abstract AffineParameters Repeat(int units, int length);

    /// <summary>Whether some slot's scale is applied as two factors.</summary>
    public abstract bool HasRescale { get; }

    /// <summary>Per-unit parameters repeated over each unit's slots.</summary>
    public abstract AffineParameters Expand(StatisticsLayout layout);
}

internal sealed class AffineParameters<T>(int slots) : AffineParameters
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public T[] Mean { get; } = new T[slots];

    public T[] Scale { get; } = new T[slots];

    public T[] Offset { get; } = new T[slots];

    /// <summary>
    /// True: the parameters are a pure standardization (<see cref="BatchNormalizationParameters.IsStandardization"/>),
    /// applied as <c>y = (x - Mean) / Scale</c> with <see cref="Scale"/> the standard deviation <c>sqrt(variance)</c>
    /// rounded once to <typeparamref name="T"/> and <see cref="Offset"/> 0: a subtraction and a division, each correctly
    /// rounded, which is torchvision's <c>(x - mean) / std</c> in <typeparamref name="T"/> bit for bit (the multiply by
    /// a rounded reciprocal misses it by up to 2 ulp). <see cref="Rescale"/> is then null: a finite non-zero divisor
    /// needs no second factor. Fixed when computed; <see cref="SetSlot"/> writes the multiply form only.
    /// </summary>
    public bool Divides { get; private set; }

    /// <summary>
    /// Null while every slot's scale is a finite <typeparamref name="T"/> (the usual case: the map is then exactly three
    /// roundings); once a slot's is not, a second factor per slot, 1 for the others (multiplying by 1 is exact).
    /// </summary>
    public T[]? Rescale { get; private set; }

    public override bool HasRescale => Rescale is not null;

    /// <summary>
    /// The affine form of <paramref name="parameters"/>' running statistics (see <see cref="AffineParameters.From(BatchNormalizationParameters, bool, AffineDirection)"/>):
    /// forward, the divide form for a pure standardization whose every standard deviation is a finite non-zero
    /// <typeparamref name="T"/>, else the multiply form; the inverse always multiplies (a standardization's inverse
    /// multiplies by the standard deviation rounded once, as <c>x * std + mean</c> does).
    /// </summary>
    public static AffineParameters<T> Compute(BatchNormalizationParameters parameters, AffineDirection direction = AffineDirection.Forward)
    {
        var affine = new AffineParameters<T>(parameters.UnitCount);
        // A scale-only column's running mean is not used (nor made, if its parameters do not hold it).
        ReadOnlySpan<double> mean = parameters.Centered ? parameters.RunningMeanValues : default, variance = parameters.RunningVarianceValues;
        if (direction == AffineDirection.Forward && parameters.IsStandardization && affine.TryStandardize(mean, variance))
        {
            return affine;
        }

        var gamma = parameters.GammaValues;
        var beta = parameters.BetaValues;
        for (int j = 0; j < variance.Length; j++)
        {
            double center = parameters.Centered ? mean[j] : 0;
            if (direction == AffineDirection.Inverse)
            {
                affine.SetInverseSlot(j, center, variance[j], gamma[j], beta[j], parameters.Epsilon);
            }
            else
            {
                affine.SetSlot(j, center, variance[j], gamma[j], beta[j], parameters.Epsilon);
            }
        }

        return affine;
    }

    public override AffineParameters Repeat(int units, int length)
    {
        var repeated = new AffineParameters<T>(length) { Divides = Divides };
        for (int j = 0; j < length; j += units)
        {
            Mean.CopyTo(repeated.Mean, j);
            Scale.CopyTo(repeated.Scale, j);
            Offset.CopyTo(repeated.Offset, j);
        }

        return repeated;
    }

    public override AffineParameters Expand(StatisticsLayout layout)
    {
        var slots = new AffineParameters<T>(layout.Slots) { Divides = Divides };
        var rescale = Rescale;
        if (rescale is not null)
        {
            slots.Rescale = new T[layout.Slots];
        }

        if (layout.Layout == ChannelLayout.ChannelsFirst)
        {
            int s = layout.SpatialSize;
            for (int c = 0; c < layout.Units; c++)
            {
                slots.Mean.AsSpan(c * s, s).Fill(Mean[c]);
                slots.Scale.AsSpan(c * s, s).Fill(Scale[c]);
                slots.Offset.AsSpan(c * s, s).Fill(Offset[c]);
                slots.Rescale?.AsSpan(c * s, s).Fill(rescale![c]);
            }
        }
        else
        {
            for (int j = 0; j < layout.Slots; j += layout.Units)
            {
                Mean.CopyTo(slots.Mean, j);
                Scale.CopyTo(slots.Scale, j);
                Offset.CopyTo(slots.Offset, j);
                rescale?.CopyTo(slots.Rescale!, j);
            }
        }

        return slots;
    }

    public override void SetSlot(int slot, double mean, double variance, double gamma, double beta, double epsilon) =>
        Set(slot, mean, variance, gamma, beta, epsilon, AffineDirection.Forward);

    /// <summary>
    /// Sets slot <paramref name="slot"/> to the inverse of the statistics' normalization: <c>(y - beta) * scale + mean</c>
    /// with scale = sqrt(variance + epsilon) / gamma, computed in double and rounded once to <typeparamref name="T"/> (a
    /// float reciprocal of the forward's float scale would round twice). <paramref name="gamma"/> must not be 0.
    /// </summary>
    public void SetInverseSlot(int slot, double mean, double variance, double gamma, double beta, double epsilon) =>
        Set(slot, beta, variance, gamma, mean, epsilon, AffineDirection.Inverse);

    // The forward map subtracts center (the mean) and adds offset (beta); the inverse subtracts beta and adds the mean.
    private void Set(int slot, double center, double variance, double gamma, double offset, double epsilon, AffineDirection direction)
    {
        Debug.Assert(!Divides, "SetSlot writes a multiplier; a dividing instance is computed whole and read-only.");
        bool inverse = direction == AffineDirection.Inverse;
        Mean[slot] = T.CreateTruncating(center);
        Offset[slot] = T.CreateTruncating(offset);
        T scale = T.CreateTruncating(inverse ? Math.Sqrt(variance + epsilon) / gamma : gamma / Math.Sqrt(variance + epsilon));
        if (T.IsFinite(scale))
        {
            Scale[slot] = scale;
            if (Rescale is not null)
            {
                Rescale[slot] = T.One;
            }

            return;
        }

        // A large gamma over a (near) zero variance (the inverse: a tiny gamma over a large variance): the scale is beyond
        // T's range, and (x - mean) = 0 would give 0 * infinity = NaN instead of the offset. Apply it as two finite factors
        // of sqrt(|scale|) each (computed without forming the scale, which may overflow double too): the mean still maps to
        // the offset, and other values overflow only where the true product does (unless even sqrt(|scale|) is beyond T,
        // when the factors saturate).
        double root = inverse
            ? Math.Pow(variance + epsilon, 0.25) / Math.Sqrt(Math.Abs(gamma))
            : Math.Sqrt(Math.Abs(gamma)) / Math.Pow(variance + epsilon, 0.25);
        T factor = T.Min(T.CreateTruncating(root), T.BitDecrement(T.PositiveInfinity)); // at most T's largest finite value
        Scale[slot] = gamma < 0 ? -factor : factor;
        if (Rescale is null)
        {
            Rescale = new T[Scale.Length];
            Rescale.AsSpan().Fill(T.One);
        }

        Rescale[slot] = factor;
    }

    /// <summary>
    /// Sets the divide form of a pure standardization: mean and standard deviation <c>sqrt(variance)</c> per slot, each
    /// rounded once to <typeparamref name="T"/>. False, and <see cref="Divides"/> left false, when some standard
    /// deviation is 0 or infinite in <typeparamref name="T"/> (a float column with a std below about 1.4e-45 or above
    /// 3.4e38): no <typeparamref name="T"/> divisor is the std then, and the multiply form, whose scale is computed in
    /// double, keeps x = mean mapping to 0.
    /// </summary>
    /// <remarks>
    /// For <see cref="BatchNormalizationParameters.FromMeanAndStd"/>'s parameters the variance is <c>std * std</c>
    /// rounded, and <c>sqrt</c> of that is std exactly (a square that neither overflows nor underflows gives its root
    /// back under round-to-nearest), so the divisor is <c>(T)std</c>: what PyTorch divides a T tensor by.
    /// </remarks>
    private bool TryStandardize(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance)
    {
        for (int j = 0; j < mean.Length; j++)
        {
            T std = T.CreateTruncating(Math.Sqrt(variance[j]));
            if (!T.IsFinite(std) || T.IsZero(std))
            {
                return false;
            }

            Mean[j] = T.CreateTruncating(mean[j]);
            Scale[j] = std;
        }

        Divides = true;
        return true;
    }
}
