using Microsoft.ML;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// Registers <typeparamref name="TStage"/> with ML.NET's <c>ComponentCatalog</c>, so that <c>mlContext.Model.Load</c>
/// finds its loader, <see cref="StageLoader{TStage}"/>, under the loader signature of the stage's
/// <see cref="StageFormat"/>. One assembly attribute beside the stage's transformer:
/// <code>[assembly: LoadableStage&lt;MyTransformer&gt;("My stage")]</code>
/// </summary>
/// <remarks>
/// It is ML.NET's own registration (the catalog reads every <c>LoadableClassAttributeBase</c> of an assembly), spelled
/// so that a stage names no ML.NET internal: ML.NET's <c>LoadableClassAttribute</c> is internal, and this attribute,
/// being ours, is also usable from a friend assembly (the tests' example stage). ML.NET registers the assembly a model
/// names as its loader's (<see cref="ModelPersistence"/> writes the stage's own), so no registration call is needed.
/// </remarks>
/// <typeparam name="TStage">The transformer to register.</typeparam>
/// <param name="userName">The stage's name in ML.NET's component listings, e.g. "Batch Normalization".</param>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class LoadableStageAttribute<TStage>(string userName)
    : LoadableClassAttributeBase(null, typeof(TStage), typeof(StageLoader<TStage>), null, [typeof(SignatureLoadModel)], userName, TStage.Format.LoaderSignature)
    where TStage : class, IPersistedStage<TStage>;
