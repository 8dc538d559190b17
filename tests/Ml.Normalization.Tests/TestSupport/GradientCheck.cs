namespace Ml.Normalization.Tests.TestSupport;

/// <summary>Central-difference gradient checks.</summary>
internal static class GradientCheck
{
    /// <summary>d loss / d x[i] by central differences: (loss(x + h e_i) - loss(x - h e_i)) / 2h.</summary>
    public static double[] Numeric(Func<double[], double> loss, double[] x, double h)
    {
        var gradient = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + h;
            double plus = loss(probe);
            probe[i] = x[i] - h;
            double minus = loss(probe);
            probe[i] = x[i];
            gradient[i] = (plus - minus) / (2 * h);
        }

        return gradient;
    }

    /// <summary>max_i |analytic - numeric| / max(max_i |numeric|, tiny): the error relative to the gradient's scale.</summary>
    public static double RelativeError(double[] analytic, double[] numeric)
    {
        double scale = 1e-12, error = 0;
        for (int i = 0; i < numeric.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(numeric[i]));
            error = Math.Max(error, Math.Abs(analytic[i] - numeric[i]));
        }

        return error / scale;
    }
}
