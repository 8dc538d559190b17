using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>
/// The sparse fit's exact bits, pinned: every case's fit state (raw running statistics, counts) and finished
/// statistics hash to fixed values, and each case equals an independent reference within 1e-12. Pinned first (session 5) on the per-batch fold, to check that the single-pass fold
/// (each slot folded when next touched, in its own cache line) did each slot's operations in the same order; re-pinned
/// when each batch began taking its own shift; re-pinned without the shifts when the fit state dropped them (1.0 format:
/// the old code hashed without them gave these same values); the three whole-data cases re-pinned when that rule began
/// keeping its mean relative to an origin (issue 19; the reference test below held before and after); every case
/// re-pinned when a batch's implicit zeros began joining its explicit values by Chan's formula and the shift began
/// moving to the mean (issue 19, item 2: BatchMomentsOrderTests; the reference test held before and after). A change here is a change of the fit's arithmetic: say why in the commit.
/// </summary>
public class SparseFitBitExactnessTests
{
    private const int Slots = 40;

    public static TheoryData<string, string> Cases() => new()
    {
        { "momentum 0.9, bias correction", "E6C302C716552AB5" },
        { "momentum 0.5, unbiased, batch 8", "C2BF3A51CEEFEAB0" },
        { "average (no momentum), double", "6849956930598D0C" },
        { "momentum 0, batch 2", "23C0C2BF26D1EF50" },
        { "whole data, batch 7", "40735B55B573FF9E" },
        { "whole data unbiased, batch 1000", "08034868BF07BBBD" },
        { "momentum 0.9, sparse then dense rows", "E0AF954748D88F88" },
        { "momentum 0.99, continued", "EAA0CB31927FD5EB" },
        { "whole data, continued", "7737E5941F317BE7" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SparseFit_GivesThePinnedBits(string name, string expected)
    {
        Assert.Equal(expected, Hash(Fit(name)));
    }

    /// <summary>
    /// What the pinned bits are worth: every case equals an independent fit within 1e-12 relative, computed per slot from
    /// the dense rows (implicit zeros included, NaN left out), each batch's moments by compensated two-pass sums, folded
    /// by the rule as the docs state it.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void SparseFit_EqualsAnIndependentReference(string name, string pinned)
    {
        _ = pinned;
        var fitted = Fit(name);
        var (mean, variance) = Reference(name);

        Approx.Equal(mean, [.. fitted.RunningMean], 1e-12, 1e-12, $"{name}: running mean");
        Approx.Equal(variance, [.. fitted.RunningVariance], 1e-12, 1e-12, $"{name}: running variance");
    }

    private static BatchNormalizingEstimator.Options Options(float? momentum, int batchSize, bool unbiased = false, bool wholeData = false) => new()
    {
        Center = false,
        Momentum = momentum,
        BiasCorrection = true,
        UnbiasedRunningVariance = unbiased,
        WholeDataStatistics = wholeData,
        BatchSize = batchSize,
        InitialRunningMean = 0.25f,
        InitialRunningVariance = 0.75f,
    };

    private static readonly (int[] Indices, double[] Values)[] First = SparseData.Make(11, 203, Slots, withNaN: true);
    private static readonly (int[] Indices, double[] Values)[] Second = SparseData.Make(12, 101, Slots, withNaN: true);

    /// <summary>Each case: its options, whether the column is Double, and the data of the fit and of its continuation (if any).</summary>
    private static (BatchNormalizingEstimator.Options Options, bool Double, bool Continued) Case(string name) => name switch
    {
        "momentum 0.9, bias correction" => (Options(0.9f, 16), false, false),
        "momentum 0.5, unbiased, batch 8" => (Options(0.5f, 8, unbiased: true), false, false),
        "average (no momentum), double" => (Options(null, 16), true, false),
        "momentum 0, batch 2" => (Options(0f, 2), false, false),
        "whole data, batch 7" => (Options(null, 7, wholeData: true), false, false),
        "whole data unbiased, batch 1000" => (Options(null, 1000, unbiased: true, wholeData: true), false, false),
        "momentum 0.9, sparse then dense rows" => (Options(0.9f, 8), false, false),
        "momentum 0.99, continued" => (Options(0.99f, 16), false, true),
        "whole data, continued" => (Options(null, 16, wholeData: true), false, true),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static BatchNormalizationParameters Fit(string name)
    {
        var ml = new MLContext(seed: 1);
        var (options, isDouble, continued) = Case(name);
        var estimator = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options);
        IDataView View((int[] Indices, double[] Values)[] rows) =>
            name.Contains("sparse then dense") ? Mixed(ml, rows)
            : isDouble ? SparseData.Doubles(ml, rows, Slots, sparse: true)
            : SparseData.Floats(ml, rows, Slots, sparse: true);

        var first = estimator.Fit(View(First));
        return (continued ? estimator.Fit(View(Second), first) : first).Columns[0];
    }

    private static (double[] Mean, double[] Variance) Reference(string name)
    {
        var (options, isDouble, continued) = Case(name);
        double Value(double v) => isDouble ? v : (float)v;
        double[][] Dense((int[] Indices, double[] Values)[] rows) => [.. rows.Select(r =>
        {
            var dense = new double[Slots];
            for (int i = 0; i < r.Indices.Length; i++)
            {
                dense[r.Indices[i]] = Value(r.Values[i]);
            }

            return dense;
        })];

        // The batches of each fit: full ones, and a final partial one of at least 2 rows (1 for whole-data statistics).
        int smallest = options.WholeDataStatistics ? 1 : 2;
        var segments = continued ? new[] { Dense(First), Dense(Second) } : [Dense(First)];
        var batches = segments.SelectMany(rows => rows.Chunk(options.BatchSize).Where(b => b.Length >= smallest)).ToArray();
        double m = options.Momentum ?? double.NaN, initialMean = options.InitialRunningMean, initialVariance = options.InitialRunningVariance;

        var (mean, variance) = (new double[Slots], new double[Slots]);
        for (int j = 0; j < Slots; j++)
        {
            var perBatch = batches.Select(b => b.Select(r => r[j]).Where(double.IsFinite).ToArray()).ToArray();
            if (options.WholeDataStatistics)
            {
                var all = perBatch.SelectMany(v => v).ToArray();
                var (mu, v) = all.Length == 0 ? (initialMean, initialVariance) : ReferenceStatistics.Moments(all);
                (mean[j], variance[j]) = (mu, options.UnbiasedRunningVariance && all.Length > 1 ? v * all.Length / (all.Length - 1) : v);
                continue;
            }

            var counted = perBatch.Where(v => v.Length >= 2).Select(v =>
            {
                var (mu, var) = ReferenceStatistics.Moments(v);
                return (Mean: mu, Variance: options.UnbiasedRunningVariance ? var * v.Length / (v.Length - 1) : var);
            }).ToArray();
            if (counted.Length == 0)
            {
                (mean[j], variance[j]) = (initialMean, initialVariance);
            }
            else if (options.Momentum is null)
            {
                (mean[j], variance[j]) = (counted.Average(c => c.Mean), counted.Average(c => c.Variance));
            }
            else
            {
                double r = initialMean, s = initialVariance;
                foreach (var c in counted)
                {
                    (r, s) = ((m * r) + ((1 - m) * c.Mean), (m * s) + ((1 - m) * c.Variance));
                }

                double decay = Math.Pow(m, counted.Length);
                (mean[j], variance[j]) = ((r - (decay * initialMean)) / (1 - decay), (s - (decay * initialVariance)) / (1 - decay));
            }
        }

        return (mean, variance);
    }

    private static IDataView Mixed(MLContext ml, (int[] Indices, double[] Values)[] rows)
    {
        var mixedRows = rows.Select((r, i) => new SparseData.FloatRow { Features = SparseData.Vector(r, Slots, sparse: i % 5 != 3, v => (float)v) }).ToArray();
        var schema = SchemaDefinition.Create(typeof(SparseData.FloatRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Slots);
        return ml.Data.LoadFromEnumerable(mixedRows, schema);
    }

    private static string Hash(BatchNormalizationParameters parameters)
    {
        var state = parameters.FitState!;
        var all = new[] { state.Means(), state.Seconds(), state.Counts(), parameters.RunningMean.ToArray(), parameters.RunningVariance.ToArray() }
            .SelectMany(a => a).SelectMany(BitConverter.GetBytes).ToArray();
        return Convert.ToHexString(SHA256.HashData(all))[..16];
    }
}
