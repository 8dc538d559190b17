using System.Diagnostics;
using Ml.Normalization.Layers;

namespace Ml.Normalization.Samples;

/// <summary>The per-epoch record of one training run.</summary>
public sealed record LayersRun(string Name, IReadOnlyList<double> TrainingLoss, IReadOnlyList<double> ValidationAccuracy, double Seconds);

/// <summary>What <see cref="DigitsLayers.Run"/> measured and wrote.</summary>
public sealed record LayersReport(IReadOnlyList<LayersRun> Runs, int TrainingRows, int ValidationRows, IReadOnlyList<string> Files);

/// <summary>
/// The second run: a two-layer network on the 8x8 digits, written with the library's <see cref="BatchNormLayer"/>
/// and <see cref="DropoutLayer"/> and trained four ways (plain, batch norm, dropout, both) from the same start.
/// </summary>
/// <remarks>
/// The network: affine (64 -> hidden), [batch norm], ReLU, [dropout], affine (hidden -> 10), softmax
/// cross-entropy; SGD with momentum on mini-batches.
/// <para>
/// Inputs are the raw pixel counts, 0..16, for all four variants. That is deliberate: the first affine layer
/// then produces pre-activations of the order of 10, and the same learning rate that suits the batch-normalized network
/// makes the plain one's first steps far too large. Batch norm re-centres and re-scales those pre-activations on
/// every batch, which is the point of the layer. The plain network is not worse as such: at learning rate 0.01, or
/// with the pixels divided by 16 (<see cref="Options.ScaleInputs"/>), it reaches about 96 % as well. The comparison
/// shows robustness to input scale and learning rate, not a better optimum.
/// </para>
/// </remarks>
public static class DigitsLayers
{
    /// <summary>Knobs of the run; the defaults are what <c>dotnet run -- layers</c> uses.</summary>
    /// <param name="Epochs">Passes over the training rows; the same for every variant.</param>
    /// <param name="Hidden">Units in the hidden layer.</param>
    /// <param name="BatchSize">Rows per mini-batch.</param>
    /// <param name="LearningRate">SGD step size.</param>
    /// <param name="Momentum">SGD momentum.</param>
    /// <param name="DropProbability">p of the dropout layer in the variants that have one.</param>
    /// <param name="ScaleInputs">Divide the pixels by 16 (see the remarks on <see cref="DigitsLayers"/>).</param>
    /// <param name="Seed">Seed of the split, the initial weights, the batch order and the dropout masks; shared by the four variants.</param>
    public sealed record Options(int Epochs = 30, int Hidden = 100, int BatchSize = 64, float LearningRate = 0.05f,
        float Momentum = 0.9f, float DropProbability = 0.3f, bool ScaleInputs = false, int Seed = 1);

    private const int Pixels = 64, Classes = 10;

    public static LayersReport Run(string outputDirectory, Options? options = null, TextWriter? log = null)
    {
        options ??= new Options();
        log ??= TextWriter.Null;
        Directory.CreateDirectory(outputDirectory);

        var (pixels, labels) = SampleData.LoadDigits();
        if (options.ScaleInputs)
        {
            for (int i = 0; i < pixels.Length; i++)
            {
                pixels[i] /= 16f;
            }
        }

        // A fixed shuffle, then 80 % to train on and 20 % to validate on.
        int rows = labels.Length;
        int[] order = [.. Enumerable.Range(0, rows)];
        new Random(options.Seed).Shuffle(order);
        int trainRows = rows * 4 / 5;
        var train = Subset(pixels, labels, order[..trainRows]);
        var validation = Subset(pixels, labels, order[trainRows..]);
        log.WriteLine($"Digits (8x8, 10 classes): {trainRows} training rows, {rows - trainRows} validation rows; " +
            $"network 64-{options.Hidden}-10, {options.Epochs} epochs of mini-batches of {options.BatchSize}.");

        var runs = new List<LayersRun>();
        foreach (var (name, batchNorm, dropout) in new[] { ("plain", false, false), ("batch norm", true, false), ("dropout", false, true), ("batch norm + dropout", true, true) })
        {
            log.Write($"  training: {name,-22}");
            var run = Train(name, new Network(options, batchNorm, dropout), train, validation, options);
            runs.Add(run);
            log.WriteLine($" loss {run.TrainingLoss[^1]:F3}, validation accuracy {run.ValidationAccuracy[^1]:P1} ({run.Seconds:F1} s)");
        }

        string picture = Plots.TrainingCurves(Path.Combine(outputDirectory, "digits-training.svg"), runs);
        return new LayersReport(runs, trainRows, rows - trainRows, [picture]);
    }

    /// <summary>Prints the final numbers the way the app shows them.</summary>
    public static void Print(LayersReport report, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"After {report.Runs[0].TrainingLoss.Count} epochs   training loss   validation accuracy   best (epoch)");
        foreach (var run in report.Runs)
        {
            double best = run.ValidationAccuracy.Max();
            int bestEpoch = run.ValidationAccuracy.ToList().IndexOf(best) + 1;
            output.WriteLine($"  {run.Name,-22} {run.TrainingLoss[^1],13:F4} {run.ValidationAccuracy[^1],21:P1} {best,9:P1} ({bestEpoch})");
        }
    }

    private static LayersRun Train(string name, Network network, (float[] X, int[] Y) train, (float[] X, int[] Y) validation, Options options)
    {
        var clock = Stopwatch.StartNew();
        var epochs = new MiniBatchEpochs(Pixels, options.BatchSize, options.Seed); // the same batch order for every variant
        var losses = new List<double>();
        var accuracies = new List<double>();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            losses.Add(epochs.Run(train, network.TrainStep));
            accuracies.Add(network.Accuracy(validation.X, validation.Y));
        }

        return new LayersRun(name, losses, accuracies, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The given rows of the digits (64 pixels each), in that order.</summary>
    internal static (float[] X, int[] Y) Subset(float[] pixels, int[] labels, int[] indices)
    {
        var x = new float[indices.Length * Pixels];
        var y = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            Array.Copy(pixels, indices[i] * Pixels, x, i * Pixels, Pixels);
            y[i] = labels[indices[i]];
        }

        return (x, y);
    }

    /// <summary>affine -> [batch norm] -> ReLU -> [dropout] -> affine, and its training step.</summary>
    private sealed class Network
    {
        private readonly Options _options;
        private readonly Affine _first, _second;
        private readonly BatchNormLayer? _batchNorm;
        private readonly DropoutLayer? _dropout;
        private readonly float[] _gammaGradient, _betaGradient, _gammaVelocity, _betaVelocity;
        private float[] _hidden = [], _logits = [], _gradient = [], _hiddenGradient = [];

        public Network(Options options, bool batchNorm, bool dropout)
        {
            _options = options;
            var init = new Random(options.Seed); // the same initial weights for every variant
            _first = new Affine(Pixels, options.Hidden, init);
            _second = new Affine(options.Hidden, Classes, init);

            // With batch norm, the first layer's bias is redundant (the batch mean is subtracted right after);
            // it stays so that the four variants share one architecture and one initialisation.
            _batchNorm = batchNorm ? new BatchNormLayer(options.Hidden, momentum: 0.9f) : null;
            _dropout = dropout ? new DropoutLayer(options.DropProbability, seed: options.Seed) : null;
            _gammaGradient = new float[options.Hidden];
            _betaGradient = new float[options.Hidden];
            _gammaVelocity = new float[options.Hidden];
            _betaVelocity = new float[options.Hidden];
        }

        /// <summary>Forward in training mode, backward, one SGD step; returns the batch's mean loss.</summary>
        public float TrainStep(float[] x, int[] labels, int rows)
        {
            Forward(x, rows, training: true);
            float loss = SoftmaxCrossEntropy.Loss(_logits, labels, rows, Classes, _gradient);

            // Backward, in reverse order of the forward pass; spans are cut to this batch's rows.
            var hiddenGradient = _hiddenGradient.AsSpan(0, rows * _options.Hidden);
            var hidden = _hidden.AsSpan(0, rows * _options.Hidden);
            _second.Backward(_gradient, rows, _hiddenGradient);
            _dropout?.Backward(hiddenGradient, hiddenGradient);
            Relu.Backward(hidden, hiddenGradient); // hidden is after dropout: dropped units have a zero gradient anyway
            _batchNorm?.Backward(hiddenGradient, hiddenGradient, _gammaGradient, _betaGradient);
            _first.Backward(_hiddenGradient, rows, dx: null);

            _first.Step(_options.LearningRate, _options.Momentum);
            _second.Step(_options.LearningRate, _options.Momentum);
            if (_batchNorm is not null)
            {
                MomentumSgd.Step(_batchNorm.Gamma, _gammaGradient, _gammaVelocity, _options.LearningRate, _options.Momentum);
                MomentumSgd.Step(_batchNorm.Beta, _betaGradient, _betaVelocity, _options.LearningRate, _options.Momentum);
            }

            return loss;
        }

        /// <summary>Test mode: batch norm uses its running statistics and dropout is the identity.</summary>
        public double Accuracy(float[] x, int[] labels)
        {
            Forward(x, labels.Length, training: false);
            int correct = 0;
            for (int i = 0; i < labels.Length; i++)
            {
                correct += SoftmaxCrossEntropy.Predict(_logits, i, Classes) == labels[i] ? 1 : 0;
            }

            return (double)correct / labels.Length;
        }

        private void Forward(float[] x, int rows, bool training)
        {
            Ensure(ref _hidden, rows * _options.Hidden);
            Ensure(ref _hiddenGradient, rows * _options.Hidden);
            Ensure(ref _logits, rows * Classes);
            Ensure(ref _gradient, rows * Classes);
            var hidden = _hidden.AsSpan(0, rows * _options.Hidden);

            _first.Forward(x, rows, _hidden);
            _batchNorm?.Forward(hidden, hidden, rows, training);
            Relu.Forward(hidden);
            _dropout?.Forward(hidden, hidden, training);
            _second.Forward(_hidden, rows, _logits);
        }

        // Buffers sized for the largest block seen; a smaller batch uses their first rows.
        private static void Ensure(ref float[] buffer, int length)
        {
            if (buffer.Length < length)
            {
                buffer = new float[length];
            }
        }
    }
}
