using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Transforms.Stages;

/// <summary>
/// A row-to-row mapper that passes every input column through and appends one output column per column pair,
/// each computed from one input column. Public ML.NET API only; the stages' transformers hand it to
/// <c>PredictionEngine</c> and wrap it in <see cref="MappedDataView"/> for <c>Transform</c>.
/// </summary>
internal sealed class ColumnMapper : IRowToRowMapper
{
    private readonly OutputColumn[] _outputs;

    /// <param name="inputSchema">The schema of the rows the mapper reads.</param>
    /// <param name="outputs">The columns it appends.</param>
    /// <param name="outputSchema">An output schema built earlier for the same input and outputs. Views that make a new
    /// mapper per cursor pass it, because ML.NET trainers require a cursor's schema to be the very instance of the
    /// view's schema, not merely an equal one.</param>
    public ColumnMapper(DataViewSchema inputSchema, IReadOnlyList<OutputColumn> outputs, DataViewSchema? outputSchema = null)
    {
        InputSchema = inputSchema;
        _outputs = [.. outputs];
        if (outputSchema is not null)
        {
            if (outputSchema.Count != inputSchema.Count + _outputs.Length)
            {
                throw new ArgumentException("The output schema does not belong to these columns.", nameof(outputSchema));
            }

            OutputSchema = outputSchema;
            return;
        }

        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var output in _outputs)
        {
            builder.AddColumn(output.Name, output.Type, output.Annotations);
        }

        OutputSchema = builder.ToSchema();
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    /// <summary>Index of the first output column in <see cref="OutputSchema"/>.</summary>
    private int FirstOutput => InputSchema.Count;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = new SortedSet<int>();
        foreach (var column in dependingColumns)
        {
            needed.Add(column.Index >= FirstOutput ? _outputs[column.Index - FirstOutput].SourceIndex : column.Index);
        }

        return needed.Select(i => InputSchema[i]).ToArray();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        var getters = new Delegate?[_outputs.Length];
        foreach (var column in activeColumns)
        {
            int k = column.Index - FirstOutput;
            if (k >= 0 && getters[k] is null)
            {
                getters[k] = _outputs[k].MakeGetter(input);
            }
        }

        return new MappedRow(this, input, getters);
    }

    /// <summary>The row of <see cref="GetRow"/>: input columns forwarded, output columns from their getters.</summary>
    internal sealed class MappedRow(ColumnMapper mapper, DataViewRow input, Delegate?[] getters) : DataViewRow
    {
        public override DataViewSchema Schema => mapper.OutputSchema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column)
        {
            int k = column.Index - mapper.FirstOutput;
            return k >= 0 ? getters[k] is not null : input.IsColumnActive(input.Schema[column.Index]);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int k = column.Index - mapper.FirstOutput;
            if (k < 0)
            {
                return input.GetGetter<TValue>(input.Schema[column.Index]);
            }

            var getter = getters[k] ?? throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': expected '{column.Type.RawType}', got '{typeof(TValue)}'.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                input.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
