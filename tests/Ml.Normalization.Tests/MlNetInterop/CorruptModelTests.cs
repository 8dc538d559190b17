using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// A stage whose own body is truncated or corrupt, inside an otherwise valid model zip, fails in our reader with
/// <see cref="InvalidDataException"/> and a message naming the stage (inside ML.NET's TargetInvocationException). (StageEntry keeps ML.NET's zip and header valid,
/// so these bodies reach our reader; damage to the zip itself never would.)
/// </summary>
public class CorruptModelTests
{
    private const string BatchNormalizeSignature = "MLNBNORM";
    private const string DropoutSignature = "MLNDROPO";
    private const string InverseSignature = "MLNBNINV";
    private const string BatchNormalizeTruncated = "The BatchNormalize model is truncated: its data ends early.";
    private const string DropoutTruncated = "The Dropout model is truncated: its data ends early.";

    // The BatchNormalize body as written (format 0x00010007, 1.0): int training batch size; int column count; output
    // name "Normalized" (1 + 10 bytes); input name "Features" (1 + 8); int channel layout; byte centered; int units;
    // double epsilon; long batches; long rows; 4 x 4 doubles; int fit-state flag (0: given parameters have none). 193 bytes.
    private const int TrainingBatchSizeOffset = 0;
    private const int ColumnCountOffset = 4;
    private const int BatchNormalizeNameOffset = 8;
    private const int ChannelLayoutOffset = BatchNormalizeNameOffset + 11 + 9;
    private const int CenteredOffset = ChannelLayoutOffset + 4;
    private const int UnitCountOffset = CenteredOffset + 1;
    private const int FitStateOffset = UnitCountOffset + 4 + 8 + 8 + 8 + (4 * 4 * 8);
    private const int BatchNormalizeBodyLength = FitStateOffset + 4;

    // The InverseBatchNormalize body (format 0x00010001, 1.0): int column count; output name "Restored" (1 + 8); input
    // name "Features" (1 + 8); int channel layout; byte centered; int units; double epsilon; 4 x 4 doubles. 167 bytes.
    private const int InverseGammaOffset = 4 + 9 + 9 + 4 + 1 + 4 + 8 + (2 * 4 * 8);
    private const int InverseBodyLength = InverseGammaOffset + (2 * 4 * 8);

    // The Dropout body (format 0x00010002, 1.0): int column count; "Out" (1 + 3); "Features" (1 + 8); float p; int seed;
    // byte kind; int channel layout; int channel count. 34 bytes.
    private const int DropProbabilityOffset = 4 + 4 + 9;
    private const int KindOffset = DropProbabilityOffset + 8;
    private const int DropoutChannelLayoutOffset = KindOffset + 1;
    private const int DropoutChannelCountOffset = DropoutChannelLayoutOffset + 4;
    private const int DropoutBodyLength = DropoutChannelCountOffset + 4;

    [Theory]
    [InlineData(BatchNormalizeSignature)]
    [InlineData(DropoutSignature)]
    [InlineData(InverseSignature)]
    public void Load_RewrittenButIntactBody_LoadsTheSameStage(string signature)
    {
        // The rewriting itself must not be what the corruption tests below detect: an intact body written back loads,
        // scores as the original and saves to the same bytes.
        var zip = SavedModel(signature);
        var body = StageEntry.ReadBody(zip, signature);
        Assert.Equal(signature switch { BatchNormalizeSignature => BatchNormalizeBodyLength, InverseSignature => InverseBodyLength, _ => DropoutBodyLength }, body.Length);

        var loaded = Load(StageEntry.WithBody(zip, signature, body));

        var ml = new MLContext(seed: 1);
        var rows = ModelIo.ToView(ml, [[3f, -1f, 0.5f, 97f], [0f, 0f, 0f, 0f]]);
        Assert.Equal(ModelIo.Dump(Load(zip).Transform(rows)), ModelIo.Dump(loaded.Transform(rows)));
        using var resaved = new MemoryStream();
        ml.Model.Save(loaded, rows.Schema, resaved);
        Assert.Equal(body, StageEntry.ReadBody(resaved.ToArray(), signature));
    }

    [Theory]
    [InlineData(0x00010006u, 0x00010006u, "The BatchNormalize model was saved in format 0x00010006, which this Ml.Normalization (")]
    [InlineData(0x00010001u, 0x00010001u, "The BatchNormalize model was saved in format 0x00010001, which this Ml.Normalization (")]
    [InlineData(0x00010008u, 0x00010008u, "The BatchNormalize model was saved in format 0x00010008 by a newer Ml.Normalization, which needs a reader of format 0x00010008 or later; this Ml.Normalization (")]
    public void Load_AnotherFormatVersion_IsRefused_NamingTheStageAndTheVersions(uint written, uint readable, string start)
    {
        var zip = StageEntry.WithFormatVersion(SavedModel(BatchNormalizeSignature), BatchNormalizeSignature, written, readable);

        var ex = LoadError(zip);

        Assert.StartsWith(start, ex.Message);
        Assert.Contains("reads formats 0x00010007 to 0x00010007", ex.Message);
    }

    [Fact]
    public void Load_DropoutDevelopmentFormat_IsRefused_NamingTheStageAndItsOneFormat()
    {
        var zip = StageEntry.WithFormatVersion(SavedModel(DropoutSignature), DropoutSignature, 0x00010001, 0x00010001);

        var ex = LoadError(zip);

        Assert.StartsWith("The Dropout model was saved in format 0x00010001, which this Ml.Normalization (", ex.Message);
        Assert.Contains("reads formats 0x00010002 to 0x00010002. Formats before 0x00010002 (1.0) were development formats", ex.Message);
    }

    [Fact]
    public void Load_ANewerFormatThatOlderReadersCanRead_Loads()
    {
        // A later 1.x format written to stay readable by 1.0 (its readable version 0x00010007) reaches our reader.
        var zip = StageEntry.WithFormatVersion(SavedModel(BatchNormalizeSignature), BatchNormalizeSignature, 0x00010008, 0x00010007);

        var loaded = Assert.IsType<BatchNormalizingTransformer>(Load(zip) is TransformerChain<ITransformer> chain ? chain.Single() : Load(zip));

        Assert.Equal([1.0, -2.0, 0.5, 100.0], loaded.Columns[0].RunningMean);
    }

    [Fact]
    public void Load_BatchNormalizeBodyTruncatedAtAnyByte_FailsAsTruncated()
    {
        var zip = SavedModel(BatchNormalizeSignature);
        var body = StageEntry.ReadBody(zip, BatchNormalizeSignature);
        for (int keep = 0; keep < body.Length; keep++)
        {
            var truncated = StageEntry.WithBody(zip, BatchNormalizeSignature, body[..keep]);
            var ex = LoadError(truncated);
            Assert.Equal(BatchNormalizeTruncated, ex.Message);
        }
    }

    [Fact]
    public void Load_FittedBatchNormalizeBodyWithFitState_TruncatedAtAnyByte_FailsAsTruncated()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, [[1f, 2f, 3f], [2f, 3f, 5f], [4f, 1f, 0f]]);
        using var stream = new MemoryStream();
        ml.Model.Save(ml.Transforms.BatchNormalize("Features", batchSize: 2).Fit(data), data.Schema, stream);
        var zip = stream.ToArray();
        var body = StageEntry.ReadBody(zip, BatchNormalizeSignature);
        // "Features" in place: 9 + 9 for the names; the fit state: flag, momentum rule (tag, momentum, two flags), 5 x 3 doubles.
        Assert.Equal(4 + 4 + 9 + 9 + 4 + 1 + 4 + 8 + 8 + 8 + (4 * 3 * 8) + 4 + (1 + 8 + 1 + 1) + (5 * 3 * 8), body.Length);

        for (int keep = 0; keep < body.Length; keep += 3)
        {
            Assert.Equal(BatchNormalizeTruncated, LoadError(StageEntry.WithBody(zip, BatchNormalizeSignature, body[..keep])).Message);
        }

        Assert.NotNull(Load(StageEntry.WithBody(zip, BatchNormalizeSignature, body)));
    }

    [Fact]
    public void Load_InverseBatchNormalizeBodyTruncatedAtAnyByte_FailsAsTruncated()
    {
        var zip = SavedModel(InverseSignature);
        var body = StageEntry.ReadBody(zip, InverseSignature);
        for (int keep = 0; keep < body.Length; keep++)
        {
            var truncated = StageEntry.WithBody(zip, InverseSignature, body[..keep]);
            Assert.Equal("The InverseBatchNormalize model is truncated: its data ends early.", LoadError(truncated).Message);
        }
    }

    [Fact]
    public void Load_InverseWithAGammaOf0_FailsAsCorrupt_NamingTheSlot()
    {
        // No saved inverse holds one (construction refuses it), so a file that does is corrupt.
        var zip = SavedModel(InverseSignature);
        var body = StageEntry.ReadBody(zip, InverseSignature);
        BitConverter.GetBytes(0.0).CopyTo(body, InverseGammaOffset + (2 * 8));

        var ex = LoadError(StageEntry.WithBody(zip, InverseSignature, body));

        Assert.Equal("The InverseBatchNormalize model is corrupt: column 'Restored': gamma[2] (slot 2) is 0, which has no inverse.", ex.Message);
    }

    [Fact]
    public void Load_DropoutBodyTruncatedAtAnyByte_FailsAsTruncated()
    {
        var zip = SavedModel(DropoutSignature);
        var body = StageEntry.ReadBody(zip, DropoutSignature);
        for (int keep = 0; keep < body.Length; keep++)
        {
            var truncated = StageEntry.WithBody(zip, DropoutSignature, body[..keep]);
            var ex = LoadError(truncated);
            Assert.Equal(DropoutTruncated, ex.Message);
        }
    }

    [Theory]
    [InlineData(BatchNormalizeSignature, ColumnCountOffset, 0, "The BatchNormalize model is corrupt: the column count is 0, expected 1 to 65536.")]
    [InlineData(BatchNormalizeSignature, ColumnCountOffset, -1, "The BatchNormalize model is corrupt: the column count is -1, expected 1 to 65536.")]
    [InlineData(BatchNormalizeSignature, ColumnCountOffset, 1 << 17, "The BatchNormalize model is corrupt: the column count is 131072, expected 1 to 65536.")]
    [InlineData(BatchNormalizeSignature, ColumnCountOffset, 2, BatchNormalizeTruncated)]
    [InlineData(BatchNormalizeSignature, UnitCountOffset, 0, "The BatchNormalize model is corrupt: a unit count is 0, expected 1 to 536870911.")]
    [InlineData(BatchNormalizeSignature, UnitCountOffset, 5, BatchNormalizeTruncated)]
    [InlineData(BatchNormalizeSignature, UnitCountOffset, int.MaxValue / 4, BatchNormalizeTruncated)]
    [InlineData(BatchNormalizeSignature, TrainingBatchSizeOffset, -1, "The BatchNormalize model is corrupt: the training batch size is -1, expected 0 to 2147483647.")]
    [InlineData(BatchNormalizeSignature, ChannelLayoutOffset, 3, "The BatchNormalize model is corrupt: a channel layout is 3, expected 0 to 2.")]
    [InlineData(BatchNormalizeSignature, ChannelLayoutOffset, -1, "The BatchNormalize model is corrupt: a channel layout is -1, expected 0 to 2.")]
    [InlineData(BatchNormalizeSignature, FitStateOffset, 2, "The BatchNormalize model is corrupt: a fit-state flag is 2, expected 0 to 1.")]
    [InlineData(BatchNormalizeSignature, CenteredOffset, 2, "The BatchNormalize model is corrupt: the centering flag of column 0 is 2, expected 0 or 1.")]
    [InlineData(DropoutSignature, 0, 0, "The Dropout model is corrupt: the column count is 0, expected 1 to 65536.")]
    [InlineData(DropoutSignature, 0, int.MinValue, "The Dropout model is corrupt: the column count is -2147483648, expected 1 to 65536.")]
    [InlineData(DropoutSignature, 0, int.MaxValue, "The Dropout model is corrupt: the column count is 2147483647, expected 1 to 65536.")]
    [InlineData(DropoutSignature, DropoutChannelLayoutOffset, 3, "The Dropout model is corrupt: the channel layout is 3, expected 0 to 2.")]
    [InlineData(DropoutSignature, DropoutChannelLayoutOffset, -1, "The Dropout model is corrupt: the channel layout is -1, expected 0 to 2.")]
    [InlineData(DropoutSignature, DropoutChannelCountOffset, -1, "The Dropout model is corrupt: the channel count is -1, expected 0 to 2147483647.")]
    [InlineData(DropoutSignature, DropoutChannelCountOffset, 3, "The Dropout model is corrupt: the channel count is 3 without a channel layout; expected 0.")]
    public void Load_CountOutOfRange_FailsWithTheCount_WithoutAllocatingWhatItAnnounces(string signature, int offset, int value, string message)
    {
        var zip = StageEntry.WithBody(SavedModel(signature), signature, WithInt32(StageEntry.ReadBody(SavedModel(signature), signature), offset, value));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = LoadError(zip);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(message, ex.Message);
        Assert.True(allocated < (64 << 20), $"{allocated} bytes allocated"); // int.MaxValue / 4 slots would be 2 GB per array
    }

    [Theory]
    [InlineData(1f, 1, "The Dropout model is corrupt: p is 1 and kind 1; expected p in [0, 1) and kind 0 or 1.")]
    [InlineData(float.NaN, 1, "The Dropout model is corrupt: p is NaN and kind 1; expected p in [0, 1) and kind 0 or 1.")]
    [InlineData(0.25f, 2, "The Dropout model is corrupt: p is 0.25 and kind 2; expected p in [0, 1) and kind 0 or 1.")]
    public void Load_DropoutPOrKindOutOfRange_FailsWithBoth(float p, byte kind, string message)
    {
        var zip = SavedModel(DropoutSignature);
        var body = StageEntry.ReadBody(zip, DropoutSignature);
        BitConverter.GetBytes(p).CopyTo(body, DropProbabilityOffset);
        body[KindOffset] = kind;

        var ex = LoadError(StageEntry.WithBody(zip, DropoutSignature, body));

        Assert.Equal(message, ex.Message);
    }

    [Theory]
    [InlineData(BatchNormalizeSignature, BatchNormalizeNameOffset, "The BatchNormalize model is corrupt: an output column name is empty or too long.")]
    [InlineData(DropoutSignature, 4, "The Dropout model is corrupt: an output column name is empty or too long.")]
    public void Load_EmptyColumnName_Fails(string signature, int nameOffset, string message)
    {
        var zip = SavedModel(signature);
        var body = StageEntry.ReadBody(zip, signature);
        var emptied = body[..nameOffset].Concat(new byte[] { 0 }).Concat(body[(nameOffset + 1 + body[nameOffset])..]).ToArray(); // output name ""

        var ex = LoadError(StageEntry.WithBody(zip, signature, emptied));

        Assert.Equal(message, ex.Message);
    }

    [Theory]
    [InlineData(BatchNormalizeSignature, "The BatchNormalize model is corrupt: 3 bytes follow its data.")]
    [InlineData(DropoutSignature, "The Dropout model is corrupt: 3 bytes follow its data.")]
    public void Load_BytesAfterTheBody_Fails(string signature, string message)
    {
        var zip = SavedModel(signature);
        var body = StageEntry.ReadBody(zip, signature);

        var ex = LoadError(StageEntry.WithBody(zip, signature, [.. body, 1, 2, 3]));

        Assert.Equal(message, ex.Message);
    }

    private static byte[] SavedModel(string signature)
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, [[1f, 2f, 3f, 4f], [2f, 3f, 5f, 7f]]);
        var normalize = ml.Transforms.BatchNormalize(new BatchNormalizationParameters("Normalized", "Features", [1f, -2f, 0.5f, 100f], [4f, 0.25f, 1f, 9f])).Fit(data);
        ITransformer model = signature switch
        {
            BatchNormalizeSignature => normalize,
            InverseSignature => normalize.GetInverse("Restored", "Features"),
            _ => ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Features")], new DropoutEstimator.Options { DropProbability = 0.25f, Seed = 7, Kind = DropoutKind.Standard }).Fit(data),
        };
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        return stream.ToArray();
    }

    private static byte[] WithInt32(byte[] body, int offset, int value)
    {
        BitConverter.GetBytes(value).CopyTo(body, offset);
        return body;
    }

    /// <summary>What Model.Load throws: ML.NET calls loaders by reflection, so our exception arrives as the inner one.</summary>
    private static InvalidDataException LoadError(byte[] modelZip)
    {
        var ex = Assert.Throws<TargetInvocationException>(() => Load(modelZip));
        return Assert.IsType<InvalidDataException>(ex.InnerException);
    }

    private static ITransformer Load(byte[] modelZip) => new MLContext().Model.Load(new MemoryStream(modelZip), out _);
}
