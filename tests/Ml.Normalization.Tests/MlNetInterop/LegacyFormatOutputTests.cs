using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// A model saved by an earlier release gives the same predictions, bit for bit, after the package is upgraded: the
/// outputs of the committed fixtures of formats 0x00010001 and 0x00010002, on Single and on Double input, are pinned
/// here as the bit patterns the code of commit 8af1a0e (float statistics) wrote.
/// </summary>
public class LegacyFormatOutputTests
{
    private static readonly float[][] SingleRows = [[3f, -1f, 0.5f, 97f], [1e30f, -1e-30f, 0.1f, 100.5f], [-7.25f, 123456.7f, float.Epsilon, -3e-3f]];

    private static readonly double[][] DoubleRows = [[3.0, -1.0, 0.5, 97.0], [1e30, -1e-30, 0.1, 100.5], [-7.25, 123456.7, 1e-300, -3e-3]];

    // Per fixture, the output bits on SingleRows / DoubleRows. The 0x00010002 fixture was regenerated with distinctive
    // parameters (commit 040741f) before the upgrade; its bits were recorded with the float-statistics code of 6176e37.
    private static readonly Dictionary<string, string[]> SingleBits = new()
    {
        ["batchnormalize-format-00010001.zip"] =
        [
            "3F7FF7CF,409FBEA9,BF800000,BF3FFC5C",
            "70C9EC54,410FBEA9,BF999653,3ED5541E",
            "C083FBC7,48F0A663,BF9FFBE8,C2045476",
        ],
        ["batchnormalize-format-00010002.zip"] =
        [
            "3E800000,403EFB6B,40800000,C055AF1D",
            "708EBA4D,40DEFB6B,40866638,BE9DAF1D",
            "C057D0AD,48F02BC8,4087FFC6,C2AEAD81",
        ],
    };

    private static readonly Dictionary<string, string[]> DoubleBits = new()
    {
        ["batchnormalize-format-00010001.zip"] =
        [
            "3FEFFEF9E7B68E0A,4013F7D51E534D90,BFF0000000000000,BFE7FF8B80527470",
            "46193D8A77FD520B,4021F7D51E534D90,BFF332CA6BC4DEBA,3FDAAA83D570D17A",
            "C0107F78DB7A213D,411E14CC55863EBC,BFF3FF7D06B61669,C0408A8EC1A4A1C1",
        ],
        ["batchnormalize-format-00010002.zip"] =
        [
            "3FD0000000000000,4007DF6D63D9CADB,4010000000000000,C00AB5E393DD6896",
            "4611D74992F63F9B,401BDF6D63D9CADB,4010CCC6F9BD874B,BFD3B5E393DD6896",
            "C00AFA15AC40D22B,411E0578EFE696CB,4010FFF8B82CE91D,C055D5B022E35A35",
        ],
    };

    [Theory]
    [InlineData("batchnormalize-format-00010001.zip")]
    [InlineData("batchnormalize-format-00010002.zip")]
    public void OldFormat_SingleInput_GivesTheSameBitsAsBeforeTheUpgrade(string fixture)
    {
        var ml = new MLContext(seed: 1);
        var output = TestData.ReadVectors(Load(ml, fixture).Transform(TestData.Vectors(ml, SingleRows, 4)), "Normalized");
        Assert.Equal(SingleBits[fixture], output.Select(r => string.Join(",", r.Select(v => BitConverter.SingleToInt32Bits(v).ToString("X8", CultureInfo.InvariantCulture)))));
    }

    [Theory]
    [InlineData("batchnormalize-format-00010001.zip")]
    [InlineData("batchnormalize-format-00010002.zip")]
    public void OldFormat_DoubleInput_GivesTheSameBitsAsBeforeTheUpgrade(string fixture)
    {
        var ml = new MLContext(seed: 1);
        var output = Load(ml, fixture).Transform(TestData.DoubleVectors(ml, DoubleRows, 4)).GetColumn<VBuffer<double>>("Normalized");
        Assert.Equal(DoubleBits[fixture], output.Select(r => string.Join(",", r.DenseValues().Select(v => BitConverter.DoubleToInt64Bits(v).ToString("X16", CultureInfo.InvariantCulture)))));
    }

    private static ITransformer Load(MLContext ml, string fixture) =>
        ml.Model.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture), out _);
}
