using System.Reflection;
using Microsoft.ML;
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
    private const string BatchNormalizeTruncated = "The BatchNormalize model is truncated: its data ends early.";
    private const string DropoutTruncated = "The Dropout model is truncated: its data ends early.";

    // The BatchNormalize body as written (format 0x00010006): int column count; output name "Normalized" (1 + 10
    // bytes); input name "Features" (1 + 8); int slots; double epsilon; long batches; long rows; 4 x 4 doubles; int
    // training batch size; int channel layout; int fit-state flag (0: given parameters have none); byte centered. 193 bytes.
    private const int SlotCountOffset = 4 + 11 + 9;
    private const int TrainingBatchSizeOffset = SlotCountOffset + 4 + 8 + 8 + 8 + (4 * 4 * 8);
    private const int ChannelLayoutOffset = TrainingBatchSizeOffset + 4;
    private const int FitStateOffset = ChannelLayoutOffset + 4;
    private const int CenteredOffset = FitStateOffset + 4;
    private const int BatchNormalizeBodyLength = CenteredOffset + 1;

    // The Dropout body: int column count; "Out" (1 + 3); "Features" (1 + 8); float p; int seed; byte kind. 26 bytes.
    private const int DropProbabilityOffset = 4 + 4 + 9;
    private const int KindOffset = DropProbabilityOffset + 8;

    [Theory]
    [InlineData(BatchNormalizeSignature)]
    [InlineData(DropoutSignature)]
    public void Load_RewrittenButIntactBody_Loads(string signature)
    {
        var zip = SavedModel(signature);
        var body = StageEntry.ReadBody(zip, signature);

        var loaded = Load(StageEntry.WithBody(zip, signature, body));

        Assert.NotNull(loaded);
        Assert.Equal(signature == BatchNormalizeSignature ? BatchNormalizeBodyLength : 26, body.Length);
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
        Assert.Equal(4 + 11 - 2 + 9 + 4 + 8 + 8 + 8 + (4 * 3 * 8) + 4 + 4 + 4 + 4 + 8 + 4 + 4 + (6 * 3 * 8) + 1, body.Length); // "Features" in place: 9 + 9 for the names

        for (int keep = 0; keep < body.Length; keep += 3)
        {
            Assert.Equal(BatchNormalizeTruncated, LoadError(StageEntry.WithBody(zip, BatchNormalizeSignature, body[..keep])).Message);
        }

        Assert.NotNull(Load(StageEntry.WithBody(zip, BatchNormalizeSignature, body)));
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
    [InlineData(BatchNormalizeSignature, 0, 0, "The BatchNormalize model is corrupt: the column count is 0, expected 1 to 65536.")]
    [InlineData(BatchNormalizeSignature, 0, -1, "The BatchNormalize model is corrupt: the column count is -1, expected 1 to 65536.")]
    [InlineData(BatchNormalizeSignature, 0, 1 << 17, "The BatchNormalize model is corrupt: the column count is 131072, expected 1 to 65536.")]
    [InlineData(BatchNormalizeSignature, 0, 2, "The BatchNormalize model is corrupt: an output column name is empty or too long.")]
    [InlineData(BatchNormalizeSignature, SlotCountOffset, 0, "The BatchNormalize model is corrupt: a slot count is 0, expected 1 to 536870911.")]
    [InlineData(BatchNormalizeSignature, SlotCountOffset, 5, BatchNormalizeTruncated)]
    [InlineData(BatchNormalizeSignature, SlotCountOffset, int.MaxValue / 4, BatchNormalizeTruncated)]
    [InlineData(BatchNormalizeSignature, TrainingBatchSizeOffset, -1, "The BatchNormalize model is corrupt: the training batch size is -1, expected 0 to 2147483647.")]
    [InlineData(BatchNormalizeSignature, ChannelLayoutOffset, 3, "The BatchNormalize model is corrupt: a channel layout is 3, expected 0 to 2.")]
    [InlineData(BatchNormalizeSignature, ChannelLayoutOffset, -1, "The BatchNormalize model is corrupt: a channel layout is -1, expected 0 to 2.")]
    [InlineData(BatchNormalizeSignature, FitStateOffset, 2, "The BatchNormalize model is corrupt: a fit-state flag is 2, expected 0 to 1.")]
    [InlineData(DropoutSignature, 0, 0, "The Dropout model is corrupt: the column count is 0, expected 1 to 65536.")]
    [InlineData(DropoutSignature, 0, int.MinValue, "The Dropout model is corrupt: the column count is -2147483648, expected 1 to 65536.")]
    [InlineData(DropoutSignature, 0, int.MaxValue, "The Dropout model is corrupt: the column count is 2147483647, expected 1 to 65536.")]
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
    [InlineData(BatchNormalizeSignature, "The BatchNormalize model is corrupt: an output column name is empty or too long.")]
    [InlineData(DropoutSignature, "The Dropout model is corrupt: an output column name is empty or too long.")]
    public void Load_EmptyColumnName_Fails(string signature, string message)
    {
        var zip = SavedModel(signature);
        var body = StageEntry.ReadBody(zip, signature);
        var emptied = body[..4].Concat(new byte[] { 0 }).Concat(body[(4 + 1 + body[4])..]).ToArray(); // output name ""

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
        ITransformer model = signature == BatchNormalizeSignature
            ? ml.Transforms.BatchNormalize(new BatchNormalizationParameters("Normalized", "Features", [1f, -2f, 0.5f, 100f], [4f, 0.25f, 1f, 9f])).Fit(data)
            : ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Features")], new DropoutEstimator.Options { DropProbability = 0.25f, Seed = 7, Kind = DropoutKind.Standard }).Fit(data);
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
