// A fresh process that loads a saved model the way a user's scoring service would: Model.Load with a new
// MLContext and no registration call, then Transform, and writes a bit-exact dump of the outputs; then lists the
// loaded model's stages with the library's GetStages (through nested chains).
// usage: Ml.Normalization.ModelRunner <model.zip> <rows.bin> <dump.txt>
using System.Runtime.CompilerServices;
using Microsoft.ML;
using Ml.Normalization.Testing;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: Ml.Normalization.ModelRunner <model.zip> <rows.bin> <dump.txt>");
    return 2;
}

bool loadedBefore = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "Ml.Normalization");
var ml = new MLContext(seed: 12345);
var model = ml.Model.Load(args[0], out _);
var rows = ModelIo.ReadRows(args[1]);
File.WriteAllText(args[2], ModelIo.Dump(model.Transform(ModelIo.ToView(ml, rows))));
Console.WriteLine($"Ml.Normalization loaded before Model.Load: {loadedBefore}");
Console.WriteLine($"stages: {Stages(model)}");
return 0;

// The first call into the library, in a method of its own (not inlined into this one), so the library is not loaded
// before Model.Load by the JIT compiling the code above.
[MethodImpl(MethodImplOptions.NoInlining)]
static string Stages(ITransformer model) => string.Join(", ", model.GetStages<ITransformer>().Select(t => t.GetType().Name));
