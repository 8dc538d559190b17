using System.Diagnostics;

namespace Ml.Normalization.Samples;

/// <summary>One network of the weight-scale experiment: per epoch, the training loss and the validation accuracy.</summary>
public sealed record WeightScaleRun(double WeightScale, bool BatchNorm, IReadOnlyList<double> TrainingLoss, IReadOnlyList<double> ValidationAccuracy)
{
    public double BestValidationAccuracy => ValidationAccuracy.Max();

    /// <summary>The mean training loss of the last epoch (NaN or infinite if training blew up).</summary>
    public double FinalTrainingLoss => TrainingLoss[^1];
}

/// <summary>
/// One network of the dropout experiment: per epoch, the training loss (training mode) and, in test mode, the accuracy
/// on both sets and the validation loss.
/// </summary>
public sealed record DropoutRun(string Name, float DropProbability, float InputDropProbability, IReadOnlyList<double> TrainingLoss,
    IReadOnlyList<double> TrainingAccuracy, IReadOnlyList<double> ValidationAccuracy, IReadOnlyList<double> ValidationLoss)
{
    /// <summary>Training accuracy minus validation accuracy at the last epoch.</summary>
    public double FinalGap => TrainingAccuracy[^1] - ValidationAccuracy[^1];
}

/// <summary>What <see cref="ArticleClaims.Run"/> measured and wrote.</summary>
public sealed record ClaimsReport(
    IReadOnlyList<WeightScaleRun> WeightScales,
    IReadOnlyList<DropoutRun> Dropout,
    ArticleClaims.Options Options,
    int ValidationRows,
    double Seconds,
    IReadOnlyList<string> Files);

/// <summary>
/// The seed article's two claims, tried the way the CS231n assignments it follows try them, with the library's layers on
/// the digits: (1) batch normalization makes a deep network far less sensitive to the scale of its initial weights;
/// (2) dropout keeps a network that has few training rows from fitting them instead of the distribution.
/// </summary>
public static class ArticleClaims
{
    /// <summary>Knobs of the run; the defaults are what <c>dotnet run -- claims</c> uses.</summary>
    /// <param name="HiddenLayers">Depth of the weight-scale experiment's network.</param>
    /// <param name="HiddenUnits">Units of each of its hidden layers.</param>
    /// <param name="WeightScales">How many weight scales, log-spaced from the smallest to the largest.</param>
    /// <param name="SmallestWeightScale">Smallest standard deviation of the initial weights.</param>
    /// <param name="LargestWeightScale">Largest standard deviation of the initial weights.</param>
    /// <param name="ScaleTrainingRows">Training rows of the weight-scale experiment.</param>
    /// <param name="ScaleEpochs">Epochs of each weight-scale network.</param>
    /// <param name="DropoutTrainingRows">Training rows of the dropout experiment: few, so that a network can learn them by heart.</param>
    /// <param name="DropoutHiddenUnits">Units of the dropout experiment's one hidden layer.</param>
    /// <param name="DropoutEpochs">Epochs of each dropout network.</param>
    /// <param name="DropProbability">p of the dropout layer after the hidden layer, in both dropout networks.</param>
    /// <param name="InputDropProbability">p of the dropout layer on the inputs, in the second dropout network.</param>
    /// <param name="BatchSize">Rows per mini-batch.</param>
    /// <param name="LearningRate">SGD step size, the same for every network.</param>
    /// <param name="Momentum">SGD momentum.</param>
    /// <param name="Seed">Seed of the split, the initial weights, the batch order and the dropout masks.</param>
    public sealed record Options(int HiddenLayers = 5, int HiddenUnits = 64, int WeightScales = 13, double SmallestWeightScale = 1e-4,
        double LargestWeightScale = 1, int ScaleTrainingRows = 1000, int ScaleEpochs = 10, int DropoutTrainingRows = 100,
        int DropoutHiddenUnits = 512, int DropoutEpochs = 100, float DropProbability = 0.5f, float InputDropProbability = 0.2f,
        int BatchSize = 50, float LearningRate = 0.05f, float Momentum = 0.9f, int Seed = 1)
    {
        /// <summary>The weight scales, log-spaced from the smallest to the largest.</summary>
        public IReadOnlyList<double> WeightScaleValues => [.. Enumerable.Range(0, WeightScales).Select(i => WeightScales == 1
            ? SmallestWeightScale
            : SmallestWeightScale * Math.Pow(LargestWeightScale / SmallestWeightScale, (double)i / (WeightScales - 1)))];
    }

    private const int Pixels = 64, Classes = 10;

    public static ClaimsReport Run(string outputDirectory, Options? options = null, TextWriter? log = null)
    {
        options ??= new Options();
        log ??= TextWriter.Null;
        Directory.CreateDirectory(outputDirectory);
        var clock = Stopwatch.StartNew();

        // Pixels scaled to [0, 1]; a fixed shuffle, the last 20 % to validate on, training rows from the front.
        var (pixels, labels) = SampleData.LoadDigits();
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] /= 16f;
        }

        int[] order = [.. Enumerable.Range(0, labels.Length)];
        new Random(options.Seed).Shuffle(order);
        int pool = labels.Length * 4 / 5;
        var validation = DigitsLayers.Subset(pixels, labels, order[pool..]);

        // 1. Batch norm against none, across the scale of the initial weights.
        var scaleTrain = DigitsLayers.Subset(pixels, labels, order[..Math.Min(options.ScaleTrainingRows, pool)]);
        int[] hidden = [.. Enumerable.Repeat(options.HiddenUnits, options.HiddenLayers)];
        log.WriteLine($"1. Weight scale: {scaleTrain.Y.Length} training and {validation.Y.Length} validation rows; network 64-" +
            $"{string.Join("-", hidden)}-10, {options.ScaleEpochs} epochs, SGD (learning rate {options.LearningRate}, momentum {options.Momentum}).");
        var scaleRuns = new List<WeightScaleRun>();
        foreach (double scale in options.WeightScaleValues)
        {
            foreach (bool batchNorm in new[] { false, true })
            {
                var network = new DeepNetwork(new DeepNetwork.Settings(Pixels, hidden, Classes, batchNorm, 0, (float)scale,
                    options.LearningRate, options.Momentum, options.Seed));
                var curves = Train(network, scaleTrain, validation, options.ScaleEpochs, options, trainingAccuracy: false);
                scaleRuns.Add(new WeightScaleRun(scale, batchNorm, curves.Loss, curves.ValidationAccuracy));
            }

            var pair = scaleRuns[^2..];
            log.WriteLine($"  weight scale {scale,8:G3}: best validation accuracy {pair[0].BestValidationAccuracy,6:P1} without, " +
                $"{pair[1].BestValidationAccuracy,6:P1} with batch norm; final training loss {pair[0].FinalTrainingLoss:F3}, {pair[1].FinalTrainingLoss:F3}");
        }

        // 2. Dropout against none, with few training rows: dropout after the hidden layer (the article's and the course's
        //    place for it), and the same with dropout on the inputs as well (the usual setting of the dropout paper).
        var dropoutTrain = DigitsLayers.Subset(pixels, labels, order[..Math.Min(options.DropoutTrainingRows, pool)]);
        log.WriteLine($"2. Dropout: {dropoutTrain.Y.Length} training and {validation.Y.Length} validation rows; network 64-" +
            $"{options.DropoutHiddenUnits}-10 (He initialisation), {options.DropoutEpochs} epochs.");
        var dropoutRuns = new List<DropoutRun>();
        foreach (var (name, p, inputP) in new[]
        {
            ("no dropout", 0f, 0f),
            ($"dropout p = {options.DropProbability} (hidden)", options.DropProbability, 0f),
            ($"p = {options.DropProbability} (hidden), {options.InputDropProbability} (inputs)", options.DropProbability, options.InputDropProbability),
        })
        {
            var network = new DeepNetwork(new DeepNetwork.Settings(Pixels, [options.DropoutHiddenUnits], Classes, false, p, null,
                options.LearningRate, options.Momentum, options.Seed, inputP));
            var curves = Train(network, dropoutTrain, validation, options.DropoutEpochs, options, trainingAccuracy: true);
            var run = new DropoutRun(name, p, inputP, curves.Loss, curves.TrainingAccuracy, curves.ValidationAccuracy, curves.ValidationLoss);
            dropoutRuns.Add(run);
            log.WriteLine($"  {name,-36} last epoch: training accuracy {run.TrainingAccuracy[^1],6:P1}, validation {run.ValidationAccuracy[^1],6:P1} " +
                $"(gap {run.FinalGap:P1}), validation loss {run.ValidationLoss[^1]:F3}");
        }

        var files = new List<string>
        {
            Plots.WeightScaleCurves(Path.Combine(outputDirectory, "claims-weight-scale.svg"), scaleRuns),
            Plots.DropoutCurves(Path.Combine(outputDirectory, "claims-dropout.svg"), dropoutRuns, dropoutTrain.Y.Length),
        };
        return new ClaimsReport(scaleRuns, dropoutRuns, options, validation.Y.Length, clock.Elapsed.TotalSeconds, files);
    }

    /// <summary>Prints the results the way the app shows them.</summary>
    public static void Print(ClaimsReport report, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine("Claim 1, batch norm and the scale of the initial weights   best validation accuracy   final training loss");
        output.WriteLine("  weight scale                                               without      with BN      without      with BN");
        foreach (var pair in report.WeightScales.Chunk(2))
        {
            output.WriteLine($"  {pair[0].WeightScale,-12:G3} {"",44} {pair[0].BestValidationAccuracy,7:P1} {pair[1].BestValidationAccuracy,12:P1} " +
                $"{pair[0].FinalTrainingLoss,12:F3} {pair[1].FinalTrainingLoss,12:F3}");
        }

        output.WriteLine();
        output.WriteLine($"Claim 2, dropout on {report.Options.DropoutTrainingRows} training rows (last epoch)   training accuracy   validation accuracy   gap   validation loss");
        foreach (var run in report.Dropout)
        {
            output.WriteLine($"  {run.Name,-52} {run.TrainingAccuracy[^1],8:P1} {run.ValidationAccuracy[^1],21:P1} {run.FinalGap,6:P1} {run.ValidationLoss[^1],17:F3}");
        }

        output.WriteLine();
        output.WriteLine($"{report.WeightScales.Count + report.Dropout.Count} networks in {report.Seconds:F1} s.");
    }

    /// <summary>
    /// Epochs of mini-batches in one seeded order (the same for every network); after each, the mean training loss, the
    /// validation accuracy and loss, and if asked the training accuracy (test mode).
    /// </summary>
    private static (List<double> Loss, List<double> TrainingAccuracy, List<double> ValidationAccuracy, List<double> ValidationLoss) Train(
        DeepNetwork network, (float[] X, int[] Y) train, (float[] X, int[] Y) validation, int epochs, Options options, bool trainingAccuracy)
    {
        var epochsOfBatches = new MiniBatchEpochs(Pixels, options.BatchSize, options.Seed);
        var (losses, trainAccuracies, accuracies, validationLosses) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            losses.Add(epochsOfBatches.Run(train, network.TrainStep));
            if (trainingAccuracy)
            {
                trainAccuracies.Add(network.Evaluate(train.X, train.Y).Accuracy);
            }

            var (accuracy, loss) = network.Evaluate(validation.X, validation.Y);
            accuracies.Add(accuracy);
            validationLosses.Add(loss);
        }

        return (losses, trainAccuracies, accuracies, validationLosses);
    }
}
