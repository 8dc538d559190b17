using System.Reflection;
using Microsoft.ML;
using Ml.Normalization.Testing;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>
/// ML.NET's estimator workout (<c>TestEstimatorCore</c> in its test framework), for this library's estimators: what
/// every estimator must do for ML.NET's chains, whatever it computes.
/// <list type="bullet">
/// <item>The estimator's GetOutputSchema and Fit accept the valid inputs and refuse the invalid input.</item>
/// <item>The fitted transformer accepts the valid inputs and refuses the invalid input; its row-to-row mapper has the
/// same schemas as its Transform.</item>
/// <item>Model.Save/Load gives a transformer with the same schemas and the same values, bit for bit, and the same
/// input schema.</item>
/// <item>The schema the estimator promised is the one the fitted transformer delivers (names, kinds, item types,
/// annotations).</item>
/// </list>
/// A refusal is an <see cref="ArgumentOutOfRangeException"/> or <see cref="InvalidOperationException"/>, as ML.NET's.
/// </summary>
internal static class EstimatorWorkout
{
    public static void Run<TTransformer>(MLContext ml, IEstimator<TTransformer> estimator, IDataView validFitInput,
        IDataView? validTransformInput = null, IDataView? invalidInput = null)
        where TTransformer : class, ITransformer
    {
        var promised = estimator.GetOutputSchema(Shapes.Of(validFitInput.Schema));
        if (invalidInput is not null)
        {
            MustFail(() => estimator.GetOutputSchema(Shapes.Of(invalidInput.Schema)));
            MustFail(() => estimator.Fit(invalidInput));
        }

        var transformer = estimator.Fit(validFitInput);
        using var stream = new MemoryStream();
        ml.Model.Save(transformer, validFitInput.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out var loadedInputSchema);
        Assert.Equal(Describe(validFitInput.Schema, annotations: false), Describe(loadedInputSchema, annotations: false));

        foreach (var data in new[] { validFitInput, validTransformInput }.OfType<IDataView>())
        {
            var schema = transformer.GetOutputSchema(data.Schema);
            Assert.True(transformer.IsRowToRowMapper);
            var mapper = transformer.GetRowToRowMapper(data.Schema);
            Assert.Same(data.Schema, mapper.InputSchema);
            Assert.Equal(Describe(schema), Describe(mapper.OutputSchema));
            Assert.Equal(Describe(schema), Describe(loaded.GetOutputSchema(data.Schema)));

            var transformed = transformer.Transform(data);
            var reloaded = loaded.Transform(data);
            Assert.Equal(Describe(schema), Describe(transformed.Schema));
            Assert.Equal(Describe(transformed.Schema), Describe(reloaded.Schema));
            Assert.Equal(ModelIo.Dump(transformed), ModelIo.Dump(reloaded));
        }

        if (invalidInput is not null)
        {
            MustFail(() => transformer.GetOutputSchema(invalidInput.Schema));
            MustFail(() => transformer.Transform(invalidInput));
            MustFail(() => loaded.GetOutputSchema(invalidInput.Schema));
            MustFail(() => loaded.Transform(invalidInput));
        }

        var delivered = Shapes.Of(transformer.GetOutputSchema(validFitInput.Schema));
        Assert.Equal(Describe(promised), Describe(delivered));
    }

    private static void MustFail(Action action)
    {
        var ex = Record.Exception(action);
        while (ex is TargetInvocationException { InnerException: { } inner })
        {
            ex = inner;
        }

        Assert.True(ex is ArgumentOutOfRangeException or InvalidOperationException, $"expected ArgumentOutOfRangeException or InvalidOperationException, got {ex?.GetType().Name ?? "no exception"}: {ex?.Message}");
    }

    private static string[] Describe(DataViewSchema schema, bool annotations = true) =>
        schema.Select(c => $"{c.Name}{(c.IsHidden ? " (hidden)" : "")}: {c.Type}"
            + (annotations ? " {" + string.Join(", ", c.Annotations.Schema.Select(a => $"{a.Name}: {a.Type}")) + "}" : "")).ToArray();

    private static string[] Describe(SchemaShape shape) =>
        shape.OrderBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => $"{c.Name}: {c.Kind} {c.ItemType} key={c.IsKey} {{{string.Join(", ", c.Annotations.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a => $"{a.Name}: {a.Kind} {a.ItemType}"))}}}").ToArray();
}
