using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Tests.Transforms.Sparse;

/// <summary>
/// The sparse fit's exact bits, pinned: every case's fit state (raw running statistics, counts) and finished
/// statistics hash to fixed values. Pinned first (session 5) on the per-batch fold, to check that the single-pass fold
/// (each slot folded when next touched, in its own cache line) did each slot's operations in the same order; re-pinned
/// when each batch began taking its own shift; re-pinned without the shifts when the fit state dropped them (1.0 format:
/// the old code hashed without them gave these same values). A change here is a change of the fit's arithmetic: say why in the commit.
/// </summary>
public class SparseFitBitExactnessTests
{
    private const int Slots = 40;

    public static TheoryData<string, string> Cases() => new()
    {
        { "momentum 0.9, bias correction", "0F7680D6FC8A941B" },
        { "momentum 0.5, unbiased, batch 8", "76DF38B072402A8B" },
        { "average (no momentum), double", "02517B91A0D020AE" },
        { "momentum 0, batch 2", "23C0C2BF26D1EF50" },
        { "whole data, batch 7", "FA0763C385DBC27E" },
        { "whole data unbiased, batch 1000", "BDE32BD112B5F6E0" },
        { "momentum 0.9, sparse then dense rows", "B3975684658ADFC8" },
        { "momentum 0.99, continued", "EAA0CB31927FD5EB" },
        { "whole data, continued", "3ED619717C06FA3C" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SparseFit_GivesThePinnedBits(string name, string expected)
    {
        Assert.Equal(expected, Hash(Fit(name)));
    }

    private static BatchNormalizationParameters Fit(string name)
    {
        var ml = new MLContext(seed: 1);
        var rows = SparseData.Make(11, 203, Slots, withNaN: true);
        BatchNormalizingEstimator.Options Options(float? momentum, int batchSize, bool unbiased = false, bool wholeData = false) => new()
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
        BatchNormalizingTransformer FitOn(IDataView data, BatchNormalizingEstimator.Options options, BatchNormalizingTransformer? previous = null)
        {
            var estimator = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options);
            return previous is null ? estimator.Fit(data) : estimator.Fit(data, previous);
        }

        var floats = SparseData.Floats(ml, rows, Slots, sparse: true);
        return (name switch
        {
            "momentum 0.9, bias correction" => FitOn(floats, Options(0.9f, 16)),
            "momentum 0.5, unbiased, batch 8" => FitOn(floats, Options(0.5f, 8, unbiased: true)),
            "average (no momentum), double" => FitOn(SparseData.Doubles(ml, rows, Slots, sparse: true), Options(null, 16)),
            "momentum 0, batch 2" => FitOn(floats, Options(0f, 2)),
            "whole data, batch 7" => FitOn(floats, Options(null, 7, wholeData: true)),
            "whole data unbiased, batch 1000" => FitOn(floats, Options(null, 1000, unbiased: true, wholeData: true)),
            "momentum 0.9, sparse then dense rows" => FitOn(Mixed(ml, rows), Options(0.9f, 8)),
            "momentum 0.99, continued" => FitOn(SparseData.Floats(ml, SparseData.Make(12, 101, Slots, withNaN: true), Slots, sparse: true), Options(0.99f, 16),
                FitOn(floats, Options(0.99f, 16))),
            "whole data, continued" => FitOn(SparseData.Floats(ml, SparseData.Make(12, 101, Slots, withNaN: true), Slots, sparse: true), Options(null, 16, wholeData: true),
                FitOn(floats, Options(null, 16, wholeData: true))),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        }).Columns[0];
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
        var all = new[] { state.Mean, state.Second, state.Count, parameters.RunningMean.ToArray(), parameters.RunningVariance.ToArray() }
            .SelectMany(a => a).SelectMany(BitConverter.GetBytes).ToArray();
        return Convert.ToHexString(SHA256.HashData(all))[..16];
    }
}
