using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.Dropout;

/// <summary>
/// Dropout copies its input column (scoring never drops), so, like ML.NET's stages that copy a column, its output keeps
/// every annotation of the input: SlotNames, IsNormalized (a Dropout after BatchNormalize stays normalized) and any other.
/// </summary>
public class DropoutAnnotationsTests
{
    private const int Slots = 3;

    [Theory]
    [InlineData(DropoutKind.Inverted)]
    [InlineData(DropoutKind.Standard)]
    public void TransformerSchemas_KeepEveryInputAnnotation(DropoutKind kind)
    {
        var ml = new MLContext(seed: 1);
        var data = AnnotatedData(ml);
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Features")], new DropoutEstimator.Options { Kind = kind, Seed = 1 }).Fit(data);
        var expected = Describe(data.Schema["Features"].Annotations);
        Assert.Equal(["IsNormalized: Boolean = True", "SlotNames: Vector<String, 3> = a|b|c", "Units: String = cm"], expected);

        Assert.Equal(expected, Describe(model.GetOutputSchema(data.Schema)["Out"].Annotations));
        Assert.Equal(expected, Describe(model.GetRowToRowMapper(data.Schema).OutputSchema["Out"].Annotations));
        Assert.Equal(expected, Describe(model.Transform(data).Schema["Out"].Annotations));
        Assert.Equal(expected, Describe(model.TransformForTraining(data).Schema["Out"].Annotations));
    }

    [Fact]
    public void EstimatorOutputSchema_KeepsEveryInputAnnotation()
    {
        var ml = new MLContext(seed: 1);
        var data = AnnotatedData(ml);

        var shape = ml.Transforms.Dropout("Out", "Features").GetOutputSchema(Shapes.Of(data.Schema));

        var annotations = shape.Single(c => c.Name == "Out").Annotations;
        Assert.Equal(["IsNormalized: Boolean Scalar", "SlotNames: String Vector", "Units: String Scalar"],
            annotations.Select(a => $"{a.Name}: {a.ItemType} {a.Kind}").Order());
    }

    [Fact]
    public void AfterBatchNormalize_TheOutputIsStillNormalized()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Random(seed: 5, rows: 40, size: Slots), Slots);
        var pipeline = ml.Transforms.BatchNormalize("Features", batchSize: 8).Append(ml.Transforms.Dropout("Out", "Features", seed: 2));

        var shape = pipeline.GetOutputSchema(Shapes.Of(data.Schema)).Single(c => c.Name == "Out");
        var schema = pipeline.Fit(data).GetOutputSchema(data.Schema);

        Assert.Contains(shape.Annotations, a => a.Name == "IsNormalized");
        Assert.True(schema["Out"].IsNormalized());
    }

    /// <summary>A "Features" column with slot names, IsNormalized and an annotation ML.NET does not know.</summary>
    private static IDataView AnnotatedData(MLContext ml)
    {
        var schema = SchemaDefinition.Create(typeof(TestData.VectorRow));
        var features = schema[0];
        features.ColumnType = new VectorDataViewType(NumberDataViewType.Single, Slots);
        features.AddAnnotation("SlotNames", new VBuffer<ReadOnlyMemory<char>>(Slots, ["a".AsMemory(), "b".AsMemory(), "c".AsMemory()]),
            new VectorDataViewType(TextDataViewType.Instance, Slots));
        features.AddAnnotation("IsNormalized", true, BooleanDataViewType.Instance);
        features.AddAnnotation("Units", "cm".AsMemory(), TextDataViewType.Instance);
        var rows = TestData.Random(seed: 3, rows: 10, size: Slots).Select(r => new TestData.VectorRow { Features = r });
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    private static string[] Describe(DataViewSchema.Annotations annotations) =>
        annotations.Schema.Select(a => $"{a.Name}: {a.Type} = {Value(annotations, a)}").Order().ToArray();

    private static string Value(DataViewSchema.Annotations annotations, DataViewSchema.Column column)
    {
        switch (column.Type)
        {
            case BooleanDataViewType:
                bool flag = false;
                annotations.GetValue(column.Name, ref flag);
                return flag.ToString();
            case TextDataViewType:
                ReadOnlyMemory<char> text = default;
                annotations.GetValue(column.Name, ref text);
                return text.ToString();
            default:
                VBuffer<ReadOnlyMemory<char>> texts = default;
                annotations.GetValue(column.Name, ref texts);
                return string.Join('|', texts.DenseValues());
        }
    }
}
