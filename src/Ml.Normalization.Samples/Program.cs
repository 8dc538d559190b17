// Placeholder until the samples issue: proves the library links and runs.
using Ml.Normalization.Layers;

var layer = new BatchNormLayer(features: 2);
float[] x = [1f, 10f, 3f, 30f];
var y = new float[4];
layer.Forward(x, y, rows: 2, training: true);
Console.WriteLine($"BatchNormLayer forward (training): [{string.Join(", ", y)}]");
