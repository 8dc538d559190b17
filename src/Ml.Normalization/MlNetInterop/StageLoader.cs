using System.Runtime.CompilerServices;
using Microsoft.ML;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// The loader ML.NET's <c>ComponentCatalog</c> calls (by reflection, through a stage's <see cref="LoadableStageAttribute{TStage}"/>
/// registration) to load a <typeparamref name="TStage"/> from a model. One generic loader serves every stage.
/// </summary>
/// <remarks>
/// A gate of <see cref="SeamCheck"/>: it checks the loaded ML.NET before calling a method that names an ML.NET internal,
/// and that method is kept out of line so that it is compiled only after the check.
/// </remarks>
/// <typeparam name="TStage">The transformer to load.</typeparam>
internal static class StageLoader<TStage>
    where TStage : class, IPersistedStage<TStage>
{
    /// <summary>Reads the stage at the current model entry.</summary>
    internal static TStage Create(ModelLoadContext ctx)
    {
        SeamCheck.EnsureCompatible();
        return Load(ctx);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static TStage Load(ModelLoadContext ctx) => ModelPersistence.Load<TStage>(ctx);
}
