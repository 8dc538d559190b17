using System.Numerics;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Fitting;

/// <summary>
/// Per unit (slot or channel), the weighted mean, weighted biased variance and weight sum of the finite values of one
/// mini-batch, each row weighted by its example weight (<see cref="RowWeight"/>): the accumulation of a fit with
/// <c>ExampleWeightColumnName</c>, for every layout; memory O(slots), nothing allocated per row.
/// </summary>
/// <remarks>
/// <para>Per unit, with w the row's weight: <c>W = sum w</c>, <c>mean = sum w x / W</c> and <c>variance = sum w (x -
/// mean)^2 / W</c> over the batch's finite values, and the count a rule is given is W. Frequency weights: a weight of
/// 2 gives the sums of the row twice, a weight of 0 leaves the row out (it sets no shift either). A unit whose weight
/// sum is 0 gets NaN statistics and count 0, as a unit without finite values.</para>
/// <para>As on the unweighted paths, each unit's sums are of <c>x - shift</c>, the shift being the mean of the unit's
/// finite values in the batch's first row of positive weight that has any; each row's values are summed per unit
/// first, then added times the row's weight to the block's sums, and on <see cref="BlockSchedule"/> the blocks to the
/// batch's totals, which move to the unit's weighted mean so far (<see cref="NormalizationKernels.Recentre"/>, n the
/// weight sum). Sparse rows are written out dense by the base class: the implicit zeros of a row carry its weight
/// exactly, at O(slots) per row.</para>
/// </remarks>
internal sealed class WeightedBatchMoments<T> : MomentAccumulator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>What the moments hold per unit: ten arrays here and the base class's four batch arrays.</summary>
    public const int BytesPerUnit = 14 * sizeof(double);

    private readonly StatisticsLayout _layout;
    private readonly RowWeight _weight;
    private readonly double[] _shift;
    private readonly double[] _rowCount;
    private readonly double[] _rowSum;
    private readonly double[] _rowSumOfSquares;
    private readonly double[] _blockWeight;
    private readonly double[] _blockSum;
    private readonly double[] _blockSumOfSquares;
    private readonly double[] _totalWeight;
    private readonly double[] _totalSum;
    private readonly double[] _totalSumOfSquares;
    private bool _everyUnitHasShift;
    private long _rowsInBatch;
    private long _nextFold = BlockSchedule.First;

    public WeightedBatchMoments(string columnName, StatisticsLayout layout, RowWeight weight)
        : base(columnName, layout.Slots, layout.Units)
    {
        _layout = layout;
        _weight = weight;
        int units = layout.Units;
        _shift = new double[units];
        _shift.AsSpan().Fill(double.NaN);
        _rowCount = new double[units];
        _rowSum = new double[units];
        _rowSumOfSquares = new double[units];
        _blockWeight = new double[units];
        _blockSum = new double[units];
        _blockSumOfSquares = new double[units];
        _totalWeight = new double[units];
        _totalSum = new double[units];
        _totalSumOfSquares = new double[units];
    }

    /// <summary>Adds a dense row of the current batch with the current <see cref="RowWeight"/>; NaN and infinities are left out.</summary>
    public override void Add(ReadOnlySpan<T> row)
    {
        if (row.Length != Slots)
        {
            throw new ArgumentException($"Expected {Slots} values, got {row.Length}.", nameof(row));
        }

        double w = _weight.Value;
        if (w > 0)
        {
            if (!_everyUnitHasShift)
            {
                TakeShifts(row);
            }

            AddRow(row, w);
        }

        if (++_rowsInBatch == _nextFold)
        {
            FoldBlocks();
            _nextFold = BlockSchedule.Next(_nextFold);
        }
    }

    private void AddRow(ReadOnlySpan<T> row, double w)
    {
        for (int i = 0; i < row.Length; i++)
        {
            double x = double.CreateTruncating(row[i]);
            if (!double.IsFinite(x))
            {
                continue;
            }

            int u = _layout.UnitOf(i);
            double t = x - _shift[u]; // the unit has its shift: TakeShifts saw this row first
            _rowCount[u] += 1;
            _rowSum[u] += t;
            _rowSumOfSquares[u] += t * t;
        }

        for (int u = 0; u < _rowSum.Length; u++)
        {
            if (_rowCount[u] != 0)
            {
                _blockWeight[u] += w * _rowCount[u];
                _blockSum[u] += w * _rowSum[u];
                _blockSumOfSquares[u] += w * _rowSumOfSquares[u];
                (_rowCount[u], _rowSum[u], _rowSumOfSquares[u]) = (0, 0, 0);
            }
        }
    }

    private void FoldBlocks()
    {
        for (int u = 0; u < _shift.Length; u++)
        {
            double weight = _totalWeight[u] + _blockWeight[u];
            double sum = _totalSum[u] + _blockSum[u], sumOfSquares = _totalSumOfSquares[u] + _blockSumOfSquares[u];
            if (weight > 0)
            {
                NormalizationKernels.Recentre(ref _shift[u], ref sum, ref sumOfSquares, weight);
            }

            (_totalWeight[u], _totalSum[u], _totalSumOfSquares[u]) = (weight, sum, sumOfSquares);
        }

        _blockWeight.AsSpan().Clear();
        _blockSum.AsSpan().Clear();
        _blockSumOfSquares.AsSpan().Clear();
    }

    /// <summary>
    /// Closes the current batch: per unit the shift, the weighted mean less the shift, the weighted biased variance and
    /// the weight sum (a unit with weight sum 0 gets NaN statistics and count 0), and restarts the sums.
    /// </summary>
    public override void EndBatch(Span<double> shift, Span<double> meanOffset, Span<double> variance, Span<double> count)
    {
        FoldBlocks();
        for (int u = 0; u < _shift.Length; u++)
        {
            double weight = _totalWeight[u];
            double offset = _totalSum[u] / weight;
            double v = (_totalSumOfSquares[u] / weight) - (offset * offset);
            count[u] = weight;
            shift[u] = _shift[u];
            meanOffset[u] = offset;
            variance[u] = v < 0 ? 0 : v;
        }

        _rowsInBatch = 0;
        _nextFold = BlockSchedule.First;
        _totalWeight.AsSpan().Clear();
        _totalSum.AsSpan().Clear();
        _totalSumOfSquares.AsSpan().Clear();
        _shift.AsSpan().Fill(double.NaN); // the next batch takes its own first values
        _everyUnitHasShift = false;
    }

    // Sets each unit without a shift to the mean of its finite values in the row (a slot's one value), so every finite
    // value the row adds has its unit's shift; a unit with none keeps NaN.
    private void TakeShifts(ReadOnlySpan<T> row)
    {
        for (int i = 0; i < row.Length; i++)
        {
            double x = double.CreateTruncating(row[i]);
            int u = _layout.UnitOf(i);
            if (double.IsFinite(x) && double.IsNaN(_shift[u]))
            {
                _rowCount[u] += 1;
                _rowSum[u] += x;
            }
        }

        for (int u = 0; u < _shift.Length; u++)
        {
            if (_rowCount[u] != 0)
            {
                // A sum of finite values can still overflow (values near double.MaxValue): the first finite value then.
                _shift[u] = double.IsFinite(_rowSum[u]) ? _rowSum[u] / _rowCount[u] : FirstFinite(row, u);
                (_rowCount[u], _rowSum[u]) = (0, 0);
            }
        }

        _everyUnitHasShift = NormalizationKernels.AllFinite<double>(_shift);
    }

    private double FirstFinite(ReadOnlySpan<T> row, int unit)
    {
        for (int i = 0; ; i++)
        {
            double x = double.CreateTruncating(row[i]);
            if (double.IsFinite(x) && _layout.UnitOf(i) == unit)
            {
                return x;
            }
        }
    }
}
