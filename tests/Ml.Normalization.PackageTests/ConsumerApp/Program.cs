// A user's app on the packed Ml.Normalization: fits BatchNormalize -> Dropout -> FastTree and saves the model, or
// loads a saved model in this fresh process and scores it, the way a scoring service would. Either way it writes
// every score as its exact bit pattern, so two processes (or two package / ML.NET versions) compare as text.
// Or it runs the package readme's C# blocks in a folder (ReadmeBlocks.cs).
//   ConsumerApp fit  <model.zip> <scores.txt>
//   ConsumerApp load <model.zip> <scores.txt>
//   ConsumerApp readme <folder>
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

// Top-level locals are in scope in every file of the app, so none here is named as a readme block's well-known
// variables (ml, data, ...: ReadmeBlocks.cs).
if (args is ["readme", var folder])
{
    return ReadmeBlocks.Run(folder);
}

if (args.Length != 3 || args[0] is not ("fit" or "load"))
{
    Console.Error.WriteLine("usage: ConsumerApp fit|load <model.zip> <scores.txt> | readme <folder>");
    return 2;
}

var mlContext = new MLContext(seed: 7);
var rows = Data.Rows(count: 600, seed: 11);
var view = mlContext.Data.LoadFromEnumerable(rows);
ITransformer model;
if (args[0] == "fit")
{
    var pipeline = mlContext.Transforms.BatchNormalize("Features", batchSize: 64)
        .Append(mlContext.Transforms.Dropout("Features", dropProbability: 0.1f))
        .Append(mlContext.BinaryClassification.Trainers.FastTree(new Microsoft.ML.Trainers.FastTree.FastTreeBinaryTrainer.Options
        {
            NumberOfTrees = 20,
            NumberOfLeaves = 8,
            MinimumExampleCountPerLeaf = 5,
            NumberOfThreads = 1,
        }));
    model = pipeline.Fit(view);
    mlContext.Model.Save(model, view.Schema, args[1]);
}
else
{
    model = mlContext.Model.Load(args[1], out _);
}

// Score through a PredictionEngine, as an app serving single requests does.
var engine = mlContext.Model.CreatePredictionEngine<Data.Row, Data.Prediction>(model);
var lines = rows.Take(200).Select(r => engine.Predict(r).Score.ToString("R", CultureInfo.InvariantCulture) + " " +
    BitConverter.SingleToInt32Bits(engine.Predict(r).Score).ToString("X8", CultureInfo.InvariantCulture));
File.WriteAllLines(args[2], lines);

string Version(Assembly a) => a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";
var ours = typeof(Ml.Normalization.BatchNormalizingTransformer).Assembly;
Console.WriteLine($"ML.NET {Version(typeof(MLContext).Assembly)}");
Console.WriteLine($"Ml.Normalization {Version(ours)} (assembly {ours.GetName().Version})");
Console.WriteLine($"stages: {string.Join(", ", model.GetStages<ITransformer>().Select(t => t.GetType().Name))}");
return 0;

internal static class Data
{
    public sealed class Row
    {
        public bool Label { get; set; }

        [VectorType(6)]
        public float[] Features { get; set; } = [];
    }

    public sealed class Prediction
    {
        public float Score { get; set; }
    }

    /// <summary>Two classes on raw scales from 0.001 to 1000, where normalizing matters; seeded.</summary>
    public static Row[] Rows(int count, int seed)
    {
        var random = new Random(seed);
        var scales = new[] { 0.001f, 0.1f, 1f, 10f, 100f, 1000f };
        return Enumerable.Range(0, count).Select(i =>
        {
            bool label = i % 2 == 0;
            var features = scales.Select((s, j) => s * (float)(random.NextDouble() + (label && j % 2 == 0 ? 0.6 : 0))).ToArray();
            return new Row { Label = label, Features = features };
        }).ToArray();
    }
}
