using System.Numerics;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Fitting;

/// <summary>
/// Per channel, the mean, biased variance and count of the finite values of one mini-batch (its rows x spatial
/// positions), from rows added one at a time; memory O(channels), nothing allocated per row.
/// </summary>
/// <remarks>
/// The sums are double and taken of <c>x - shift</c>, the shift being the mean of the channel's finite values in the
/// first row that has any (so batches are independent, and a continued fit needs no shift; and a first value far from
/// the rest of a row's thousands does not cancel the variance away); the shifts are taken from that row before it is
/// added, so it can take the vector path too. The sums are kept per lane
/// (<see cref="NormalizationKernels.AccumulateLaneMoments{T}"/>, each square added by a fused multiply-add): 32 lanes
/// per channel for channels-first rows, whose channel planes are contiguous, and lcm(C, 16) lanes for channels-last
/// rows, lane l holding channel l mod C. A row with a non-finite value takes a scalar path that adds each finite value
/// to the same lane in the same order, so the statistics do not depend on the path or on the vector width. After every
/// row the lane sums are added to each channel's block sums, and on <see cref="BlockSchedule"/> the blocks to the
/// batch's totals, whose shift then moves to the channel's mean so far (<see cref="NormalizationKernels.Recentre"/>), as
/// <see cref="MiniBatchMoments{T}"/> does per slot. A batch's first shifts come from the lane kernel too (zero shifts),
/// except for a channel with a non-finite value in that row.
/// </remarks>
internal sealed class ChannelBatchMoments<T> : MomentAccumulator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly StatisticsLayout _layout;
    private readonly int _lanes; // per channel (channels first) or in all (channels last)
    private readonly double[] _shift;
    private readonly double[] _laneShift;
    private readonly double[] _laneSum;
    private readonly double[] _laneSumOfSquares;
    private readonly double[] _laneCount;
    private readonly double[] _savedSum;
    private readonly double[] _savedSumOfSquares;
    private readonly double[] _blockCount;
    private readonly double[] _blockSum;
    private readonly double[] _blockSumOfSquares;
    private readonly double[] _totalCount;
    private readonly double[] _totalSum;
    private readonly double[] _totalSumOfSquares;
    private readonly double[] _zeroShift;
    private bool _everyChannelHasShift;
    private bool _anyShift;
    private long _finiteRowsInBatch;
    private long _rowsInBatch;
    private long _nextFold = BlockSchedule.First;

    public ChannelBatchMoments(string columnName, StatisticsLayout layout)
        : base(columnName, layout.Slots, layout.Units)
    {
        _layout = layout;
        int channels = layout.Units;
        int totalLanes;
        if (layout.Layout == ChannelLayout.ChannelsFirst)
        {
            _lanes = NormalizationKernels.LaneGroup;
            totalLanes = _lanes * channels;
        }
        else
        {
            // Two lane groups' worth: RGB gets 48 lanes, six 512-bit vectors of sums in flight, not three.
            const int Period = 2 * NormalizationKernels.InterleavedLaneGroup;
            _lanes = checked(channels / Gcd(channels, Period) * Period);
            totalLanes = _lanes;
        }

        _shift = new double[channels];
        _shift.AsSpan().Fill(double.NaN);
        _laneShift = new double[totalLanes];
        _laneSum = new double[totalLanes];
        _laneSumOfSquares = new double[totalLanes];
        _laneCount = new double[totalLanes];
        _zeroShift = new double[layout.Layout == ChannelLayout.ChannelsFirst ? 0 : totalLanes];
        _savedSum = new double[totalLanes];
        _savedSumOfSquares = new double[totalLanes];
        _blockCount = new double[channels];
        _blockSum = new double[channels];
        _blockSumOfSquares = new double[channels];
        _totalCount = new double[channels];
        _totalSum = new double[channels];
        _totalSumOfSquares = new double[channels];
    }

    public override void Add(ReadOnlySpan<T> row)
    {
        if (!_everyChannelHasShift)
        {
            TakeShifts(row); // a batch's first row: usually every channel's shift is there, and the row takes the fast path
        }

        // The fast path adds the whole row, then checks the lane sums: a NaN or infinity anywhere in the row leaves a
        // non-finite sum, and the row is taken back (from a copy of the few lane sums) and added by the general path.
        // One pass over the row instead of a finiteness pass and an accumulation pass; the same bits either way.
        if (_everyChannelHasShift && NormalizationKernels.AllFinite<double>(_laneSum) && NormalizationKernels.AllFinite<double>(_laneSumOfSquares))
        {
            _laneSum.CopyTo(_savedSum, 0);
            _laneSumOfSquares.CopyTo(_savedSumOfSquares, 0);
            if (_layout.Layout == ChannelLayout.ChannelsFirst)
            {
                // The last plane first: the getter has just written the row, and its end is what the cache still holds.
                int s = _layout.SpatialSize;
                for (int c = _layout.Units - 1; c >= 0; c--)
                {
                    var lanes = new Range(c * _lanes, (c + 1) * _lanes);
                    NormalizationKernels.AccumulatePlaneMoments(row.Slice(c * s, s), _shift[c], _laneSum.AsSpan(lanes), _laneSumOfSquares.AsSpan(lanes));
                }
            }
            else
            {
                NormalizationKernels.AccumulateLaneMoments(row, _laneShift, _laneSum, _laneSumOfSquares);
            }

            if (NormalizationKernels.AllFinite<double>(_laneSum) && NormalizationKernels.AllFinite<double>(_laneSumOfSquares))
            {
                _finiteRowsInBatch++;
                EndRow();
                return;
            }

            _savedSum.CopyTo(_laneSum, 0);
            _savedSumOfSquares.CopyTo(_laneSumOfSquares, 0);
        }

        AddGeneral(row);
        EndRow();
    }

    // A row holds many values per lane (an image plane's): after every row the lanes are added to each channel's block
    // sums, and on the batch's block schedule the blocks to the totals, which then move to the channel's mean so far.
    // Three levels, so no sum takes more than a row's values per lane, or 512 terms, at its own magnitude.
    private void EndRow()
    {
        for (int c = 0; c < _layout.Units; c++)
        {
            var (n, sum, sumOfSquares) = LaneTotals(c);
            _blockCount[c] += n;
            _blockSum[c] += sum;
            _blockSumOfSquares[c] += sumOfSquares;
        }

        _finiteRowsInBatch = 0;
        _laneSum.AsSpan().Clear();
        _laneSumOfSquares.AsSpan().Clear();
        _laneCount.AsSpan().Clear();
        if (++_rowsInBatch == _nextFold)
        {
            FoldBlocks();
            _nextFold = BlockSchedule.Next(_nextFold);
        }
    }

    private void FoldBlocks()
    {
        for (int c = 0; c < _layout.Units; c++)
        {
            double n = _totalCount[c] + _blockCount[c];
            double sum = _totalSum[c] + _blockSum[c], sumOfSquares = _totalSumOfSquares[c] + _blockSumOfSquares[c];
            double shift = _shift[c];
            NormalizationKernels.Recentre(ref shift, ref sum, ref sumOfSquares, n);
            if (!double.IsNaN(shift) && shift != _shift[c])
            {
                SetShift(c, shift);
            }

            (_totalCount[c], _totalSum[c], _totalSumOfSquares[c]) = (n, sum, sumOfSquares);
        }

        _blockCount.AsSpan().Clear();
        _blockSum.AsSpan().Clear();
        _blockSumOfSquares.AsSpan().Clear();
    }

    // The channel's count and sums in the row's lanes (relative to its shift), in lane order.
    private (double Count, double Sum, double SumOfSquares) LaneTotals(int channel)
    {
        double n = _finiteRowsInBatch * (double)_layout.SpatialSize, sum = 0, sumOfSquares = 0;
        var (first, end, stride) = LanesOf(channel);
        for (int l = first; l < end; l += stride)
        {
            n += _laneCount[l];
            sum += _laneSum[l];
            sumOfSquares += _laneSumOfSquares[l];
        }

        return (n, sum, sumOfSquares);
    }

    public override void EndBatch(Span<double> shift, Span<double> meanOffset, Span<double> variance, Span<double> count)
    {
        FoldBlocks();
        for (int c = 0; c < _layout.Units; c++)
        {
            var (n, sum, sumOfSquares) = (_totalCount[c], _totalSum[c], _totalSumOfSquares[c]);
            double offset = sum / n;
            double v = (sumOfSquares / n) - (offset * offset);
            count[c] = n;
            shift[c] = _shift[c];
            meanOffset[c] = offset;
            variance[c] = v < 0 ? 0 : v;
        }

        _finiteRowsInBatch = 0;
        _rowsInBatch = 0;
        _nextFold = BlockSchedule.First;
        _laneSum.AsSpan().Clear();
        _laneSumOfSquares.AsSpan().Clear();
        _laneCount.AsSpan().Clear();
        _totalCount.AsSpan().Clear();
        _totalSum.AsSpan().Clear();
        _totalSumOfSquares.AsSpan().Clear();
        _shift.AsSpan().Fill(double.NaN); // the next batch takes its own first values
        _everyChannelHasShift = false;
        _anyShift = false;
    }

    // Channels first: channel c has lanes c * 32 .. c * 32 + 31; channels last: lanes c, c + C, c + 2C, ... below P.
    private (int First, int End, int Stride) LanesOf(int channel) => _layout.Layout == ChannelLayout.ChannelsFirst
        ? (channel * _lanes, (channel + 1) * _lanes, 1)
        : (channel, _lanes, _layout.Units);

    private void AddGeneral(ReadOnlySpan<T> row)
    {
        bool first = _layout.Layout == ChannelLayout.ChannelsFirst;
        int s = _layout.SpatialSize;
        for (int i = 0; i < row.Length; i++)
        {
            double x = double.CreateTruncating(row[i]);
            if (!double.IsFinite(x))
            {
                continue;
            }

            int lane = first ? ((i / s) * _lanes) + (i % s % _lanes) : i % _lanes;

            double t = x - _laneShift[lane]; // the channel has its shift: TakeShifts saw this row first
            _laneSum[lane] += t;
            _laneSumOfSquares[lane] = double.FusedMultiplyAdd(t, t, _laneSumOfSquares[lane]);
            _laneCount[lane] += 1;
        }
    }

    // Sets each channel without a shift to the mean of its finite values in the row, so every finite value the row adds
    // has its channel's shift; a channel with none keeps NaN, and the row then goes the scalar path.
    private void TakeShifts(ReadOnlySpan<T> row)
    {
        int s = _layout.SpatialSize, channels = _layout.Units;
        bool first = _layout.Layout == ChannelLayout.ChannelsFirst;
        if (!_anyShift)
        {
            TakeShiftsFromLanes(row, first);
        }

        for (int c = 0; c < channels; c++)
        {
            if (!double.IsNaN(_shift[c]))
            {
                continue;
            }

            double sum = 0, firstFinite = double.NaN;
            long finite = 0;
            for (int k = 0; k < s; k++)
            {
                double x = double.CreateTruncating(row[first ? (c * s) + k : (k * channels) + c]);
                if (double.IsFinite(x))
                {
                    firstFinite = finite == 0 ? x : firstFinite;
                    sum += x;
                    finite++;
                }
            }

            // A sum of finite values can still overflow (values near double.MaxValue): the first finite value then.
            if (finite > 0)
            {
                SetShift(c, double.IsFinite(sum) ? sum / finite : firstFinite);
            }
        }

        _everyChannelHasShift = NormalizationKernels.AllFinite<double>(_shift);
    }

    // A batch's first row, every channel without a shift: the channels' sums from the lane kernel (zero shifts, into
    // the spare lane buffers), each folded in lane order, one vector pass instead of a scalar one (which cost 1-2% of a
    // fit of 256 image rows). A channel whose sum is not finite (a NaN or an infinity in it, or an overflow) is left to
    // the scalar loop, which skips such values.
    private void TakeShiftsFromLanes(ReadOnlySpan<T> row, bool first)
    {
        int s = _layout.SpatialSize;
        _savedSum.AsSpan().Clear();
        _savedSumOfSquares.AsSpan().Clear();
        if (first)
        {
            for (int c = 0; c < _layout.Units; c++)
            {
                var lanes = new Range(c * _lanes, (c + 1) * _lanes);
                NormalizationKernels.AccumulatePlaneMoments(row.Slice(c * s, s), 0.0, _savedSum.AsSpan(lanes), _savedSumOfSquares.AsSpan(lanes));
            }
        }
        else
        {
            NormalizationKernels.AccumulateLaneMoments(row, _zeroShift, _savedSum, _savedSumOfSquares);
        }

        for (int c = 0; c < _layout.Units; c++)
        {
            double sum = 0;
            var (firstLane, end, stride) = LanesOf(c);
            for (int l = firstLane; l < end; l += stride)
            {
                sum += _savedSum[l];
            }

            if (double.IsFinite(sum))
            {
                SetShift(c, sum / s);
            }
        }
    }

    private void SetShift(int channel, double value)
    {
        _anyShift = true;
        _shift[channel] = value;
        var (first, end, stride) = LanesOf(channel);
        for (int l = first; l < end; l += stride)
        {
            _laneShift[l] = value;
        }
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
