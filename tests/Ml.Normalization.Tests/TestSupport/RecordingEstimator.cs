using Microsoft.ML;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>A pipeline stage that records the values it is trained on (what EstimatorChain hands it), then copies its column.</summary>
internal sealed class RecordingEstimator(MLContext ml, string column) : IEstimator<ITransformer>
{
    public List<float[]> Seen { get; } = [];

    public ITransformer Fit(IDataView input)
    {
        Seen.AddRange(TestData.ReadVectors(input, column));
        return ml.Transforms.CopyColumns("Copy", column).Fit(input);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => ml.Transforms.CopyColumns("Copy", column).GetOutputSchema(inputSchema);
}
