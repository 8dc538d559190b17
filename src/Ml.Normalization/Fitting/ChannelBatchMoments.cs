using System.Numerics;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Fitting;

/// <summary>
/// Per channel, the mean, biased variance and count of the finite values of one mini-batch (its rows x spatial
/// positions), from rows added one at a time; memory O(channels), nothing allocated per row.
/// </summary>
/// <remarks>
/// The sums are double and taken of <c>x - shift</c>, the shift being the channel's first finite value in the batch, as
/// <see cref="MiniBatchMoments{T}"/> does per slot (so batches are independent, and a continued fit needs no shift); they
/// are taken from the batch's first row before it is added, so that row can take the vector path too. The sums are kept
/// per lane
/// (<see cref="NormalizationKernels.AccumulateLaneMoments{T}"/>): 16 lanes per channel for channels-first rows, whose
/// channel planes are contiguous, and lcm(C, 8) lanes for channels-last rows, lane l holding channel l mod C. A row with
/// a non-finite value, or a channel without a shift yet, takes a scalar path that adds each finite value to the same
/// lane in the same order, so the statistics do not depend on the path or on the vector width.
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
    private bool _everyChannelHasShift;
    private long _finiteRowsInBatch;

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
            _lanes = checked(channels / Gcd(channels, NormalizationKernels.InterleavedLaneGroup) * NormalizationKernels.InterleavedLaneGroup);
            totalLanes = _lanes;
        }

        _shift = new double[channels];
        _shift.AsSpan().Fill(double.NaN);
        _laneShift = new double[totalLanes];
        _laneSum = new double[totalLanes];
        _laneSumOfSquares = new double[totalLanes];
        _laneCount = new double[totalLanes];
        _savedSum = new double[totalLanes];
        _savedSumOfSquares = new double[totalLanes];
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
                int s = _layout.SpatialSize;
                for (int c = 0; c < _layout.Units; c++)
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
                return;
            }

            _savedSum.CopyTo(_laneSum, 0);
            _savedSumOfSquares.CopyTo(_laneSumOfSquares, 0);
        }

        AddGeneral(row);
    }

    public override void EndBatch(Span<double> shift, Span<double> meanOffset, Span<double> variance, Span<double> count)
    {
        long perRow = _layout.SpatialSize;
        for (int c = 0; c < _layout.Units; c++)
        {
            double n = _finiteRowsInBatch * (double)perRow, sum = 0, sumOfSquares = 0;
            var (first, end, stride) = LanesOf(c);
            for (int l = first; l < end; l += stride)
            {
                n += _laneCount[l];
                sum += _laneSum[l];
                sumOfSquares += _laneSumOfSquares[l];
            }

            double offset = sum / n;
            double v = (sumOfSquares / n) - (offset * offset);
            count[c] = n;
            shift[c] = _shift[c];
            meanOffset[c] = offset;
            variance[c] = v < 0 ? 0 : v;
        }

        _finiteRowsInBatch = 0;
        _laneSum.AsSpan().Clear();
        _laneSumOfSquares.AsSpan().Clear();
        _laneCount.AsSpan().Clear();
        _shift.AsSpan().Fill(double.NaN); // the next batch takes its own first values
        _everyChannelHasShift = false;
    }

    // Channels first: channel c has lanes c * 16 .. c * 16 + 15; channels last: lanes c, c + C, c + 2C, ... below P.
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

            int c, lane;
            if (first)
            {
                c = i / s;
                lane = (c * _lanes) + ((i - (c * s)) % _lanes);
            }
            else
            {
                c = i % _layout.Units;
                lane = i % _lanes;
            }

            if (double.IsNaN(_shift[c]))
            {
                SetShift(c, x);
            }

            double t = x - _laneShift[lane];
            _laneSum[lane] += t;
            _laneSumOfSquares[lane] += t * t;
            _laneCount[lane] += 1;
        }

        _everyChannelHasShift = NormalizationKernels.AllFinite<double>(_shift);
    }

    // Sets each channel without a shift to its first finite value in the row, in row order (what the scalar path would
    // take); a channel with none keeps NaN, and the row then goes the scalar path.
    private void TakeShifts(ReadOnlySpan<T> row)
    {
        int s = _layout.SpatialSize, channels = _layout.Units;
        bool first = _layout.Layout == ChannelLayout.ChannelsFirst;
        for (int c = 0; c < channels; c++)
        {
            if (!double.IsNaN(_shift[c]))
            {
                continue;
            }

            for (int k = 0; k < s; k++)
            {
                double x = double.CreateTruncating(row[first ? (c * s) + k : (k * channels) + c]);
                if (double.IsFinite(x))
                {
                    SetShift(c, x);
                    break;
                }
            }
        }

        _everyChannelHasShift = NormalizationKernels.AllFinite<double>(_shift);
    }

    private void SetShift(int channel, double value)
    {
        _shift[channel] = value;
        var (first, end, stride) = LanesOf(channel);
        for (int l = first; l < end; l += stride)
        {
            _laneShift[l] = value;
        }
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
