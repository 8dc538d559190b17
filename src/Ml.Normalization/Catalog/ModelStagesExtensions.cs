using Microsoft.ML.Data;

namespace Microsoft.ML;

/// <summary>
/// <c>model.GetStages&lt;BatchNormalizingTransformer&gt;()</c>: the stages of a fitted or loaded model, whatever chains
/// hold them.
/// </summary>
public static class ModelStagesExtensions
{
    /// <summary>
    /// The stages of <paramref name="model"/> that are <typeparamref name="TTransformer"/>s, in pipeline order: depth
    /// first, descending into every <see cref="TransformerChain{TLastTransformer}"/> (so a chain appended to a chain
    /// hides nothing), or <paramref name="model"/> itself if it is a <typeparamref name="TTransformer"/> and not a chain.
    /// </summary>
    /// <typeparam name="TTransformer">The stage type wanted, such as <c>BatchNormalizingTransformer</c>; with
    /// <see cref="ITransformer"/>, every stage.</typeparam>
    /// <param name="model">A model: what <c>Fit</c> returned, or what <c>mlContext.Model.Load</c> gave (an
    /// <see cref="ITransformer"/> that is a <c>TransformerChain&lt;ITransformer&gt;</c> when the saved model was a chain).</param>
    /// <returns>The matching stages, none if the model has none; chains themselves are containers, never stages. Lazy:
    /// each enumeration walks the model again.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <remarks>
    /// A loaded model is typed <see cref="ITransformer"/>, so <c>loaded.First()</c> does not compile (CS0411) and a flat
    /// <c>((IEnumerable&lt;ITransformer&gt;)loaded).OfType&lt;T&gt;()</c> misses the stages of nested chains. To continue
    /// or merge a fit from a saved model:
    /// <code>
    /// var previous = ml.Model.Load("model.zip", out _).GetStages&lt;BatchNormalizingTransformer&gt;().Single();
    /// </code>
    /// A chain is recognised by enumerating its transformers (<see cref="IEnumerable{T}"/> of <see cref="ITransformer"/>,
    /// which <see cref="TransformerChain{TLastTransformer}"/> is).
    /// </remarks>
    public static IEnumerable<TTransformer> GetStages<TTransformer>(this ITransformer model)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(model);
        return Walk(model);

        static IEnumerable<TTransformer> Walk(ITransformer model)
        {
            if (model is not IEnumerable<ITransformer> root)
            {
                if (model is TTransformer stage)
                {
                    yield return stage;
                }

                yield break;
            }

            // Depth first with an explicit stack of the open chains, so deep nesting costs no recursion.
            var open = new Stack<IEnumerator<ITransformer>>();
            open.Push(root.GetEnumerator());
            try
            {
                while (open.Count > 0)
                {
                    var chain = open.Peek();
                    if (!chain.MoveNext())
                    {
                        open.Pop().Dispose();
                        continue;
                    }

                    var current = chain.Current;
                    if (current is IEnumerable<ITransformer> nested)
                    {
                        open.Push(nested.GetEnumerator());
                    }
                    else if (current is TTransformer stage)
                    {
                        yield return stage;
                    }
                }
            }
            finally
            {
                while (open.Count > 0)
                {
                    open.Pop().Dispose();
                }
            }
        }
    }
}
