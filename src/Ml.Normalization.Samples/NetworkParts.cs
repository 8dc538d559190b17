using System.Numerics.Tensors;

namespace Ml.Normalization.Samples;

// The parts of the small network that the library does not provide: a fully connected layer, ReLU, softmax
// cross-entropy and momentum SGD. Plain float arrays, row-major (row i of a rows x n block is [i*n, i*n+n)).

/// <summary>A fully connected layer y = x W + b, with W (inputs x outputs) and b (outputs).</summary>
public sealed class Affine
{
    private float[] _input = [];

    /// <summary>
    /// Weights ~ N(0, weightScale^2), biases 0; without a weight scale, He initialisation: N(0, 2 / inputs).
    /// </summary>
    public Affine(int inputs, int outputs, Random random, float? weightScale = null)
    {
        Inputs = inputs;
        Outputs = outputs;
        Weights = new float[inputs * outputs];
        Bias = new float[outputs];
        WeightGradient = new float[Weights.Length];
        BiasGradient = new float[outputs];
        WeightVelocity = new float[Weights.Length];
        BiasVelocity = new float[outputs];
        float std = weightScale ?? MathF.Sqrt(2f / inputs);
        for (int i = 0; i < Weights.Length; i++)
        {
            Weights[i] = std * Gaussian(random);
        }
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public float[] Weights { get; }

    public float[] Bias { get; }

    public float[] WeightGradient { get; }

    public float[] BiasGradient { get; }

    public float[] WeightVelocity { get; }

    public float[] BiasVelocity { get; }

    /// <summary>y = x W + b for <paramref name="rows"/> rows; keeps x for <see cref="Backward"/>.</summary>
    public void Forward(float[] x, int rows, float[] y)
    {
        _input = x;
        for (int i = 0; i < rows; i++)
        {
            var yRow = y.AsSpan(i * Outputs, Outputs);
            Bias.CopyTo(yRow);
            for (int k = 0; k < Inputs; k++)
            {
                // y[i, :] += x[i, k] * W[k, :]
                TensorPrimitives.MultiplyAdd(Weights.AsSpan(k * Outputs, Outputs), x[i * Inputs + k], yRow, yRow);
            }
        }
    }

    /// <summary>Fills the weight and bias gradients and, unless <paramref name="dx"/> is null, dx = dy Wᵀ.</summary>
    public void Backward(float[] dy, int rows, float[]? dx)
    {
        Array.Clear(WeightGradient);
        Array.Clear(BiasGradient);
        for (int i = 0; i < rows; i++)
        {
            var dyRow = dy.AsSpan(i * Outputs, Outputs);
            TensorPrimitives.Add(BiasGradient, dyRow, BiasGradient);
            for (int k = 0; k < Inputs; k++)
            {
                var gradientRow = WeightGradient.AsSpan(k * Outputs, Outputs);
                TensorPrimitives.MultiplyAdd(dyRow, _input[i * Inputs + k], gradientRow, gradientRow); // dW[k, :] += x[i, k] * dy[i, :]
                if (dx is not null)
                {
                    dx[i * Inputs + k] = TensorPrimitives.Dot(Weights.AsSpan(k * Outputs, Outputs), dyRow);
                }
            }
        }
    }

    /// <summary>One momentum-SGD step on W and b.</summary>
    public void Step(float learningRate, float momentum)
    {
        MomentumSgd.Step(Weights, WeightGradient, WeightVelocity, learningRate, momentum);
        MomentumSgd.Step(Bias, BiasGradient, BiasVelocity, learningRate, momentum);
    }

    private static float Gaussian(Random random) => // Box-Muller
        MathF.Sqrt(-2f * MathF.Log(1f - random.NextSingle())) * MathF.Cos(2f * MathF.PI * random.NextSingle());
}

/// <summary>ReLU, in place.</summary>
public static class Relu
{
    /// <summary>x = max(x, 0).</summary>
    public static void Forward(Span<float> x) => TensorPrimitives.Max(x, 0f, x);

    /// <summary>dy = 0 where the forward output <paramref name="y"/> was 0 (the input was not positive).</summary>
    public static void Backward(ReadOnlySpan<float> y, Span<float> dy)
    {
        for (int i = 0; i < dy.Length; i++)
        {
            if (y[i] <= 0f)
            {
                dy[i] = 0f;
            }
        }
    }
}

/// <summary>Softmax over each row of logits, and the cross-entropy with integer labels.</summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>
    /// The mean cross-entropy over <paramref name="rows"/> rows; when <paramref name="gradient"/> is given it receives
    /// d(mean loss)/d(logits) = (softmax - onehot) / rows.
    /// </summary>
    public static float Loss(float[] logits, ReadOnlySpan<int> labels, int rows, int classes, float[]? gradient)
    {
        double total = 0;
        Span<float> p = stackalloc float[classes];
        for (int i = 0; i < rows; i++)
        {
            // Stable softmax: subtract the row's largest logit before exponentiating (raw inputs give large logits).
            var row = logits.AsSpan(i * classes, classes);
            TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), p);
            TensorPrimitives.Exp(p, p);
            TensorPrimitives.Divide(p, TensorPrimitives.Sum(p), p);
            total -= Math.Log(Math.Max(p[labels[i]], 1e-12f));
            if (gradient is not null)
            {
                var g = gradient.AsSpan(i * classes, classes);
                TensorPrimitives.Divide(p, rows, g);
                g[labels[i]] -= 1f / rows;
            }
        }

        return (float)(total / rows);
    }

    /// <summary>The index of the largest logit of row <paramref name="row"/>.</summary>
    public static int Predict(float[] logits, int row, int classes) =>
        TensorPrimitives.IndexOfMax(logits.AsSpan(row * classes, classes));
}

/// <summary>SGD with momentum: v = momentum * v - learningRate * g; w += v.</summary>
public static class MomentumSgd
{
    public static void Step(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float momentum)
    {
        TensorPrimitives.Multiply(velocity, momentum, velocity);
        TensorPrimitives.MultiplyAdd(gradient, -learningRate, velocity, velocity);
        TensorPrimitives.Add(weights, velocity, weights);
    }
}

/// <summary>
/// Mini-batch epochs over a training set, in one seeded order per epoch (the same for every network given the same
/// seed): each batch's rows are copied into one reused buffer and handed to a training step.
/// </summary>
public sealed class MiniBatchEpochs(int features, int batchSize, int seed)
{
    private readonly Random _shuffle = new(seed);
    private readonly float[] _x = new float[batchSize * features];
    private readonly int[] _y = new int[batchSize];
    private int[] _order = []; // each epoch shuffles the order the one before left

    /// <summary>One epoch: <paramref name="trainStep"/>(x, labels, rows) on each batch; returns the mean of its losses over the rows.</summary>
    public double Run((float[] X, int[] Y) train, Func<float[], int[], int, float> trainStep)
    {
        int rows = train.Y.Length;
        if (_order.Length != rows)
        {
            _order = [.. Enumerable.Range(0, rows)];
        }

        int[] order = _order;
        _shuffle.Shuffle(order);
        double lossSum = 0;
        for (int start = 0; start < rows; start += batchSize)
        {
            int n = Math.Min(batchSize, rows - start);
            for (int i = 0; i < n; i++)
            {
                Array.Copy(train.X, order[start + i] * features, _x, i * features, features);
                _y[i] = train.Y[order[start + i]];
            }

            lossSum += trainStep(_x, _y, n) * n;
        }

        return lossSum / rows;
    }
}
