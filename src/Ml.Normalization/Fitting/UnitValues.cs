using System.Collections;

namespace Ml.Normalization.Fitting;

/// <summary>
/// One read-only value per unit (slot or channel), held once when every unit has the same: a fit's initial mean and
/// variance, and its gamma and beta, are the options' numbers for every unit, and a million-slot column would otherwise
/// keep 8 MB of copies of each.
/// </summary>
internal sealed class UnitValues : IReadOnlyList<double>
{
    private readonly double[]? _values;
    private readonly double _value;

    private UnitValues(int count, double value, double[]? values)
    {
        Count = count;
        _value = value;
        _values = values;
    }

    /// <summary><paramref name="count"/> units of <paramref name="value"/>.</summary>
    public static UnitValues Uniform(int count, double value) => new(count, value, null);

    /// <summary>The given values, held once if they are all the same (bit for bit, so a -0 or a NaN is kept as it is).</summary>
    public static UnitValues Of(ReadOnlySpan<double> values)
    {
        if (values.Length > 0)
        {
            long first = BitConverter.DoubleToInt64Bits(values[0]);
            var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<double, long>(values);
            if (bits.IndexOfAnyExcept(first) < 0)
            {
                return Uniform(values.Length, values[0]);
            }
        }

        return new(values.Length, 0, values.ToArray());
    }

    public int Count { get; }

    /// <summary>Whether every unit has the same value, held once.</summary>
    public bool IsUniform => _values is null;

    /// <summary>The values, one per unit; null when they are held once (<see cref="IsUniform"/>).</summary>
    public double[]? PerUnit => _values;

    /// <summary>Whether every unit's value equals <paramref name="value"/> (<c>==</c>: -0 equals 0, a NaN nothing).</summary>
    public bool All(double value) => _values is null ? _value == value : Array.TrueForAll(_values, v => v == value);

    /// <summary>The first unit whose value equals <paramref name="value"/> (as <see cref="double.Equals(double)"/>), or -1.</summary>
    public int IndexOf(double value) => _values is null ? (Count > 0 && _value.Equals(value) ? 0 : -1) : Array.IndexOf(_values, value);

    public double this[int unit] => _values is null ? ((uint)unit < (uint)Count ? _value : throw new ArgumentOutOfRangeException(nameof(unit))) : _values[unit];

    public IEnumerator<double> GetEnumerator()
    {
        for (int j = 0; j < Count; j++)
        {
            yield return this[j];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
