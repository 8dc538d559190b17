namespace Ml.Normalization.Samples;

// Counts of values in equal bins from Min to Max; a value equal to Max goes in the last bin, values outside are dropped
// (and if Min == Max, every value equal to it goes in the first bin).
public sealed class Histogram
{
    public Histogram(int bins, double min, double max)
    {
        Counts = new double[bins];
        Min = min;
        Max = max;
    }

    public double[] Counts { get; }

    public double Min { get; }

    public double Max { get; }

    public double BinWidth => (Max - Min) / Counts.Length;

    public static Histogram Of(IReadOnlyCollection<double> values, int bins)
    {
        var histogram = new Histogram(bins, values.Min(), values.Max());
        histogram.AddRange(values);
        return histogram;
    }

    public void AddRange(IEnumerable<double> values)
    {
        foreach (double v in values)
        {
            if (v >= Min && v <= Max)
            {
                Counts[Max > Min ? Math.Min((int)((v - Min) / BinWidth), Counts.Length - 1) : 0]++;
            }
        }
    }
}
