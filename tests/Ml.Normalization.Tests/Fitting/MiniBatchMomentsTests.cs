using Ml.Normalization.Fitting;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>The per-batch arithmetic of the fit: sums that float could not hold.</summary>
public class MiniBatchMomentsTests
{
    [Fact]
    public void SinglesOfMagnitude1e18_WhoseSquaresOverflowFloat_GiveFiniteStatistics()
    {
        // Nanosecond timestamps are ~1.7e18; deviations of ~1e18 square to ~1e36, and a few hundred of them overflow a float sum.
        const int rows = 1000;
        var values = Enumerable.Range(0, rows).Select(i => (float)(1.7e18 + ((i % 7) - 3) * 4e17 + (i * 1e15))).ToArray();
        var moments = new MiniBatchMoments<float>("x", 1);
        foreach (var v in values)
        {
            moments.Add([v]);
        }

        var (mean, variance, count) = (new double[1], new double[1], new double[1]);
        moments.EndBatch(mean, variance, count);

        double exactMean = values.Average(v => (double)v);
        double exactVariance = values.Average(v => Math.Pow(v - exactMean, 2));
        Assert.Equal(rows, count[0]);
        Assert.Equal(exactMean, mean[0], 1e-12 * Math.Abs(exactMean));
        Assert.Equal(exactVariance, variance[0], 1e-12 * exactVariance);
    }

    [Theory]
    [InlineData(37)]
    [InlineData(64)]
    [InlineData(5)]
    public void HeldRows_GiveTheBitsOfOneRowAtATime_WithNaNRowsAndLateShifts(int slots)
    {
        // Held rows are summed together; NaN rows among them are taken again one at a time, and slots whose first finite
        // value comes late and batches that end between holds interrupt the holding. Rows come through Add and, when a
        // buffer is free, written to it (as ColumnFitter does). Reference: the kernels called a row at a time.
        var random = new Random(slots);
        var moments = new MiniBatchMoments<float>("x", slots);
        var reference = new RowAtATime(slots);
        foreach (int batchRows in new[] { 1000, 7, 2051, 1 })
        {
            for (int r = 0; r < batchRows; r++)
            {
                var row = Enumerable.Range(0, slots).Select(j =>
                    (j == 1 && r < 20) || random.Next(100) == 0 ? float.NaN : (float)((random.NextDouble() * 1e3) + (j * 1e5))).ToArray();
                if (r % 3 != 0 && moments.FreeRowBuffer is { } free)
                {
                    row.CopyTo(free, 0);
                    moments.AddHeldRow();
                }
                else
                {
                    moments.Add(row);
                }

                reference.Add(row);
            }

            var (mean, variance, count) = (new double[slots], new double[slots], new double[slots]);
            moments.EndBatch(mean, variance, count);
            var (expectedMean, expectedVariance, expectedCount) = reference.EndBatch();
            Assert.Equal(expectedMean.Select(BitConverter.DoubleToInt64Bits), mean.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(expectedVariance.Select(BitConverter.DoubleToInt64Bits), variance.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(expectedCount, count);
        }
    }

    [Fact]
    public void FreeRowBuffer_IsNull_UntilEverySlotHasItsShift_AndForWideColumns()
    {
        var moments = new MiniBatchMoments<float>("x", 2);
        Assert.Null(moments.FreeRowBuffer); // no shift yet: the first row goes through Add
        Assert.Throws<InvalidOperationException>(moments.AddHeldRow);
        moments.Add([1f, float.NaN]);
        Assert.Null(moments.FreeRowBuffer); // slot 1 still has no finite value
        moments.Add([2f, 3f]);
        Assert.Equal(2, moments.FreeRowBuffer!.Length);
        Assert.Null(new MiniBatchMoments<float>("wide", 1 << 16).FreeRowBuffer); // summed a row at a time
    }

    // MiniBatchMoments without holding: each row through AccumulateMoments or AccumulateFiniteMoments as it comes.
    private sealed class RowAtATime(int slots)
    {
        private readonly double[] _shift = Enumerable.Repeat(double.NaN, slots).ToArray();
        private readonly double[] _sum = new double[slots], _squares = new double[slots], _totalSum = new double[slots], _totalSquares = new double[slots], _count = new double[slots];
        private long _finiteRows, _rows, _nextFold = BlockSchedule.First;

        public void Add(float[] row)
        {
            if (_shift.All(double.IsFinite) && row.All(float.IsFinite))
            {
                NormalizationKernels.AccumulateMoments<float>(row, _shift, _sum, _squares);
                _finiteRows++;
            }
            else
            {
                NormalizationKernels.AccumulateFiniteMoments<float>(row, _shift, _sum, _squares, _count);
            }

            if (++_rows == _nextFold)
            {
                NormalizationKernels.FoldMoments(_shift, _sum, _squares, _totalSum, _totalSquares, _count, _finiteRows);
                _nextFold = BlockSchedule.Next(_nextFold);
            }
        }

        public (double[] Mean, double[] Variance, double[] Count) EndBatch()
        {
            NormalizationKernels.FoldMoments(_shift, _sum, _squares, _totalSum, _totalSquares, _count, _finiteRows);
            var (offset, variance) = (new double[slots], new double[slots]);
            NormalizationKernels.FiniteMomentsToBatchStatistics(new double[slots], _totalSum, _totalSquares, _count, _finiteRows, offset, variance);
            var mean = offset.Select((o, j) => _shift[j] + o).ToArray();
            var count = (double[])_count.Clone();
            Array.Fill(_shift, double.NaN);
            Array.Clear(_totalSum);
            Array.Clear(_totalSquares);
            Array.Clear(_count);
            (_finiteRows, _rows, _nextFold) = (0, 0, BlockSchedule.First);
            return (mean, variance, count);
        }
    }
}
