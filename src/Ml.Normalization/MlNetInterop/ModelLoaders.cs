using Microsoft.ML;
using Ml.Normalization;
using Ml.Normalization.MlNetInterop;

// ML.NET's loader registry: Model.Load reads the loader signature and assembly name from each stage's header,
// loads that assembly, scans these attributes and calls the Create method below. No registration call is needed.
[assembly: LoadableClass(typeof(BatchNormalizingTransformer), typeof(ModelLoaders.BatchNormalize), null, typeof(SignatureLoadModel),
    "Batch Normalization", BatchNormalizingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(DropoutTransformer), typeof(ModelLoaders.Dropout), null, typeof(SignatureLoadModel),
    "Dropout", DropoutTransformer.LoaderSignature)]

namespace Ml.Normalization.MlNetInterop;

/// <summary>The entry points ML.NET's <c>ComponentCatalog</c> calls to load our stages from a model.</summary>
internal static class ModelLoaders
{
    internal static class BatchNormalize
    {
        internal static BatchNormalizingTransformer Create(ModelLoadContext ctx) =>
            ModelPersistence.Load(ctx, BatchNormalizingTransformer.Version, "BatchNormalize", (reader, version) => BatchNormalizingTransformer.Read(reader, version));
    }

    internal static class Dropout
    {
        internal static DropoutTransformer Create(ModelLoadContext ctx) =>
            ModelPersistence.Load(ctx, DropoutTransformer.Version, "Dropout", (reader, _) => DropoutTransformer.Read(reader));
    }
}
