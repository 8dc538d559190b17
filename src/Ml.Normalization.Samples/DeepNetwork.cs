using Ml.Normalization.Layers;

namespace Ml.Normalization.Samples;

/// <summary>
/// A fully connected network of any depth: each hidden layer is affine, [batch norm], ReLU, [dropout]; then affine and
/// softmax cross-entropy; SGD with momentum on mini-batches. Built from the library's <see cref="BatchNormLayer"/> and
/// <see cref="DropoutLayer"/> and the samples' <see cref="Affine"/>, <see cref="Relu"/>, <see cref="SoftmaxCrossEntropy"/>
/// and <see cref="MomentumSgd"/>: the claims run's network (the layers run keeps its own, one hidden layer deep).
/// </summary>
public sealed class DeepNetwork
{
    /// <summary>The shape and training of a network.</summary>
    /// <param name="Inputs">Values per input row.</param>
    /// <param name="Hidden">Units of each hidden layer, first to last.</param>
    /// <param name="Classes">Output classes.</param>
    /// <param name="BatchNorm">A batch-norm layer between each hidden affine layer and its ReLU.</param>
    /// <param name="DropProbability">p of a dropout layer after each hidden ReLU; 0: none.</param>
    /// <param name="WeightScale">Standard deviation of every initial weight; null: He initialisation.</param>
    /// <param name="LearningRate">SGD step size.</param>
    /// <param name="Momentum">SGD momentum.</param>
    /// <param name="Seed">Seed of the initial weights and of the dropout masks.</param>
    /// <param name="InputDropProbability">p of a dropout layer on the inputs; 0: none.</param>
    public sealed record Settings(int Inputs, IReadOnlyList<int> Hidden, int Classes, bool BatchNorm, float DropProbability,
        float? WeightScale, float LearningRate, float Momentum, int Seed, float InputDropProbability = 0);

    private readonly Settings _settings;
    private readonly Affine[] _affine;
    private readonly BatchNormLayer?[] _batchNorm;
    private readonly DropoutLayer?[] _dropout;
    private readonly DropoutLayer? _inputDropout;
    private readonly float[][] _gammaGradient, _betaGradient, _gammaVelocity, _betaVelocity;

    // _outputs[l]: hidden layer l's output for the current rows (the next affine layer's input); _logits the last
    // layer's; _gradients[l] the gradient at _outputs[l].
    private readonly float[][] _outputs, _gradients;
    private float[] _logits = [], _logitGradient = [], _droppedInput = [];

    public DeepNetwork(Settings settings)
    {
        _settings = settings;
        int hidden = settings.Hidden.Count;
        var init = new Random(settings.Seed);
        _affine = [.. Enumerable.Range(0, hidden + 1).Select(l => new Affine(
            l == 0 ? settings.Inputs : settings.Hidden[l - 1], l == hidden ? settings.Classes : settings.Hidden[l], init, settings.WeightScale))];
        _batchNorm = [.. settings.Hidden.Select(units => settings.BatchNorm ? new BatchNormLayer(units, momentum: 0.9f) : null)];
        _dropout = [.. Enumerable.Range(0, hidden).Select(l => settings.DropProbability > 0 ? new DropoutLayer(settings.DropProbability, seed: settings.Seed + l) : null)];
        _inputDropout = settings.InputDropProbability > 0 ? new DropoutLayer(settings.InputDropProbability, seed: settings.Seed - 1) : null;
        _gammaGradient = [.. settings.Hidden.Select(units => new float[units])];
        _betaGradient = [.. settings.Hidden.Select(units => new float[units])];
        _gammaVelocity = [.. settings.Hidden.Select(units => new float[units])];
        _betaVelocity = [.. settings.Hidden.Select(units => new float[units])];
        _outputs = [.. settings.Hidden.Select(_ => Array.Empty<float>())];
        _gradients = [.. settings.Hidden.Select(_ => Array.Empty<float>())];
    }

    /// <summary>Forward in training mode, backward, one SGD step; returns the batch's mean loss.</summary>
    public float TrainStep(float[] x, int[] labels, int rows)
    {
        Forward(x, rows, training: true);
        float loss = SoftmaxCrossEntropy.Loss(_logits, labels, rows, _settings.Classes, _logitGradient);

        // Backward, last layer first. Each hidden layer's output is after its dropout: a dropped unit reads as 0 there,
        // so ReLU's backward zeroes its gradient as dropout's backward already has.
        _affine[^1].Backward(_logitGradient, rows, _gradients[^1]);
        for (int l = _outputs.Length - 1; l >= 0; l--)
        {
            var gradient = _gradients[l].AsSpan(0, rows * _settings.Hidden[l]);
            _dropout[l]?.Backward(gradient, gradient);
            Relu.Backward(_outputs[l].AsSpan(0, gradient.Length), gradient);
            _batchNorm[l]?.Backward(gradient, gradient, _gammaGradient[l], _betaGradient[l]);
            _affine[l].Backward(_gradients[l], rows, l > 0 ? _gradients[l - 1] : null);
        }

        foreach (var affine in _affine)
        {
            affine.Step(_settings.LearningRate, _settings.Momentum);
        }

        for (int l = 0; l < _batchNorm.Length; l++)
        {
            if (_batchNorm[l] is { } batchNorm)
            {
                MomentumSgd.Step(batchNorm.Gamma, _gammaGradient[l], _gammaVelocity[l], _settings.LearningRate, _settings.Momentum);
                MomentumSgd.Step(batchNorm.Beta, _betaGradient[l], _betaVelocity[l], _settings.LearningRate, _settings.Momentum);
            }
        }

        return loss;
    }

    /// <summary>
    /// Test mode (batch norm with its running statistics, no dropout): the share of rows classified right, and the mean
    /// cross-entropy.
    /// </summary>
    public (double Accuracy, double Loss) Evaluate(float[] x, int[] labels)
    {
        Forward(x, labels.Length, training: false);
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            correct += SoftmaxCrossEntropy.Predict(_logits, i, _settings.Classes) == labels[i] ? 1 : 0;
        }

        return ((double)correct / labels.Length, SoftmaxCrossEntropy.Loss(_logits, labels, labels.Length, _settings.Classes, gradient: null));
    }

    private void Forward(float[] x, int rows, bool training)
    {
        var input = x;
        if (_inputDropout is not null && training)
        {
            // Into a buffer of its own: the caller's rows stay as they are, and the first affine layer keeps its input.
            Ensure(ref _droppedInput, rows * _settings.Inputs);
            _inputDropout.Forward(x.AsSpan(0, rows * _settings.Inputs), _droppedInput.AsSpan(0, rows * _settings.Inputs), training);
            input = _droppedInput;
        }

        for (int l = 0; l < _outputs.Length; l++)
        {
            int length = rows * _settings.Hidden[l];
            Ensure(ref _outputs[l], length);
            Ensure(ref _gradients[l], length);
            var output = _outputs[l].AsSpan(0, length);
            _affine[l].Forward(input, rows, _outputs[l]);
            _batchNorm[l]?.Forward(output, output, rows, training);
            Relu.Forward(output);
            _dropout[l]?.Forward(output, output, training);
            input = _outputs[l];
        }

        Ensure(ref _logits, rows * _settings.Classes);
        Ensure(ref _logitGradient, rows * _settings.Classes);
        _affine[^1].Forward(input, rows, _logits);
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
