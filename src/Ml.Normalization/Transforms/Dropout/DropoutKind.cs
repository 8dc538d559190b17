namespace Ml.Normalization;

/// <summary>Which of the seed article's two dropout variants a <see cref="DropoutEstimator"/> applies.</summary>
public enum DropoutKind
{
    /// <summary>Inverted dropout (the default): training keeps values with probability 1 - p and scales them by
    /// 1 / (1 - p); scoring is the identity.</summary>
    Inverted = 0,

    /// <summary>Standard dropout: training keeps values with probability 1 - p unscaled; scoring multiplies by 1 - p.</summary>
    Standard = 1,
}
