using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// <c>mlContext.Transforms.BatchNormalize(parameters)</c> returns an estimator with nothing to learn, in ML.NET's
/// TrivialEstimator manner: its Fit checks the columns and returns the one transformer of the parameters. The
/// transformer is not an estimator itself. (The estimator workout is in <see cref="EstimatorContractTests"/>.)
/// </summary>
public class KnownParametersEstimatorTests
{
    private static readonly BatchNormalizationParameters Parameters = new("Out", "Features", [1.0, 2.0], [4.0, 0.25], gamma: [2.0], beta: [0.0, 1.0], epsilon: 1e-3);

    [Fact]
    public void KnownParameters_ReturnsTrivialEstimator()
    {
        var ml = new MLContext(seed: 1);

        var estimator = ml.Transforms.BatchNormalize(Parameters);
        var first = estimator.Fit(TestData.Vectors(ml, [[3f, 3f]], 2));
        var second = estimator.Fit(TestData.Vectors(ml, [[-1f, 0f], [5f, 6f]], 2));

        Assert.IsType<KnownParametersBatchNormalizingEstimator>(estimator);
        Assert.IsAssignableFrom<IEstimator<BatchNormalizingTransformer>>(estimator);
        Assert.Same(first, second);
        Assert.Same(Parameters, Assert.Single(first.Columns));
        Assert.Equal(0, first.TrainingBatchSize);
    }

    [Fact]
    public void KnownParameters_TransformerIsNotAnEstimator()
    {
        Assert.DoesNotContain(typeof(BatchNormalizingTransformer).GetInterfaces(), i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEstimator<>));
    }

    [Fact]
    public void KnownParameters_Fit_ReadsNoRows_AnEmptyViewWillDo()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.BatchNormalize(Parameters);

        var fromEmpty = estimator.Fit(TestData.Vectors(ml, [], 2));
        var schema = SchemaDefinition.Create(typeof(TestData.VectorRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2);
        var fromUnreadable = estimator.Fit(ml.Data.LoadFromEnumerable(Unreadable(), schema)); // streamed: enumerated only by a cursor

        Assert.Same(fromEmpty, fromUnreadable);
        var output = TestData.ReadVectors(fromEmpty.Transform(TestData.Vectors(ml, [[3f, 3f]], 2)), "Out")[0];
        Assert.Equal(2 * (3 - 1) / Math.Sqrt(4.001), output[0], 5);
        Assert.Equal((2 * (3 - 2) / Math.Sqrt(0.251)) + 1, output[1], 5);

        static IEnumerable<TestData.VectorRow> Unreadable()
        {
            throw new InvalidOperationException("Fit read a row.");
#pragma warning disable CS0162 // unreachable: makes this an iterator, which throws only when enumerated
            yield break;
#pragma warning restore CS0162
        }
    }

    [Fact]
    public void KnownParameters_Fit_RefusesAColumnOfAnotherSize_WhichTheSchemaShapeCannotSee()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.BatchNormalize(Parameters);
        var threeSlots = TestData.Vectors(ml, [[1f, 2f, 3f]], 3);

        var shape = estimator.GetOutputSchema(Shapes.Of(threeSlots.Schema));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(threeSlots));

        Assert.Equal(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Out").Kind);
        Assert.Contains("'Features'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KnownParameters_Estimator_RefusesAMissingColumn_AtSchemaTimeAndAtFit()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.BatchNormalize(new BatchNormalizationParameters("Out", "Missing", [0.0], [1.0]));
        var data = TestData.Vectors(ml, [[1f]], 1);

        var atSchema = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shapes.Of(data.Schema)));
        var atFit = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));

        Assert.Contains("'Missing'", atSchema.Message, StringComparison.Ordinal);
        Assert.Contains("'Missing'", atFit.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => estimator.Fit(null!));
        Assert.Throws<ArgumentNullException>(() => estimator.GetOutputSchema(null!));
    }

    [Fact]
    public void KnownParameters_InAnEstimatorChain_FitsWithTheTrainer()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIoView(ml);
        var pipeline = ml.Transforms.BatchNormalize(new BatchNormalizationParameters("Features", null, [0.0, 0.0, 0.0], [1.0, 4.0, 9.0]))
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(maximumNumberOfIterations: 2));

        var model = pipeline.Fit(data);

        Assert.IsType<BatchNormalizingTransformer>(model.First());
        Assert.Equal(data.GetRowCount(), model.Transform(data).GetColumn<float>("Score").Count());
    }

    private static IDataView ModelIoView(MLContext ml) => Testing.ModelIo.ToView(ml, TestData.Random(seed: 4, rows: 16, size: 3));
}
