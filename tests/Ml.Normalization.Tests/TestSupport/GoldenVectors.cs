using System.Text.Json;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>Reads the committed golden vectors of Golden/ (see Golden/README.md for the schema).</summary>
internal static class GoldenVectors
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

    public static IReadOnlyList<SeedBatchNormCase> Seed { get; } = Load<SeedFile>("seed_batchnorm.json").Cases;

    public static IReadOnlyList<TorchBatchNormCase> Torch { get; } = Load<TorchFile>("torch_batchnorm1d.json").Cases;

    public static IReadOnlyList<TorchBatchNorm2dCase> Torch2d { get; } = Load<Torch2dFile>("torch_batchnorm2d.json").Cases;

    public static TheoryData<string> SeedNames() => Names(Seed.Select(c => c.Name));

    public static TheoryData<string> TorchNames() => Names(Torch.Select(c => c.Name));

    public static TheoryData<string> Torch2dNames() => Names(Torch2d.Select(c => c.Name));

    public static TorchBatchNorm2dCase Torch2dCase(string name) => Torch2d.Single(c => c.Name == name);

    public static SeedBatchNormCase SeedCase(string name) => Seed.Single(c => c.Name == name);

    public static TorchBatchNormCase TorchCase(string name) => Torch.Single(c => c.Name == name);

    public static float[] F(double[] values) => Array.ConvertAll(values, v => (float)v);

    private static TheoryData<string> Names(IEnumerable<string> names)
    {
        var data = new TheoryData<string>();
        foreach (var n in names)
        {
            data.Add(n);
        }

        return data;
    }

    private static T Load<T>(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Golden", file);
        return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options) ?? throw new InvalidDataException(path);
    }

    private sealed record SeedFile(List<SeedBatchNormCase> Cases);

    private sealed record TorchFile(List<TorchBatchNormCase> Cases);

    private sealed record Torch2dFile(List<TorchBatchNorm2dCase> Cases);
}

internal sealed class SeedBatchNormCase
{
    public string Name { get; set; } = "";
    public int Rows { get; set; }
    public int Features { get; set; }
    public double Momentum { get; set; }
    public double Eps { get; set; }
    public double[] Gamma { get; set; } = [];
    public double[] Beta { get; set; } = [];
    public double[][] Batches { get; set; } = [];
    public double[][] Train_Out { get; set; } = [];
    public double[][] Running_Mean_After { get; set; } = [];
    public double[][] Running_Var_After { get; set; } = [];
    public double[] Dout { get; set; } = [];
    public double[] Dx { get; set; } = [];
    public double[] Dgamma { get; set; } = [];
    public double[] Dbeta { get; set; } = [];
    public double[] Test_X { get; set; } = [];
    public int Test_Rows { get; set; }
    public double[] Test_Out { get; set; } = [];
}

internal sealed class TorchBatchNormCase
{
    public string Name { get; set; } = "";
    public int Rows { get; set; }
    public int Features { get; set; }
    public double Torch_Momentum { get; set; }
    public double Eps { get; set; }
    public double[][] Batches { get; set; } = [];
    public int[] Batch_Rows { get; set; } = [];
    public double[][] Running_Mean_After { get; set; } = [];
    public double[][] Running_Var_After { get; set; } = [];
    public double[][] Train_Out { get; set; } = [];
    public double[] Test_X { get; set; } = [];
    public int Test_Rows { get; set; }
    public double[] Eval_Out { get; set; } = [];
}

internal sealed class TorchBatchNorm2dCase
{
    public string Name { get; set; } = "";
    public int N { get; set; }
    public int C { get; set; }
    public int H { get; set; }
    public int W { get; set; }
    public double Torch_Momentum { get; set; }
    public double Eps { get; set; }
    public double[] Weight { get; set; } = [];
    public double[] Bias { get; set; } = [];
    public double[][] Batches { get; set; } = [];
    public double[][] Train_Out { get; set; } = [];
    public double[][] Running_Mean_After { get; set; } = [];
    public double[][] Running_Var_After { get; set; } = [];
    public double[] Grad_Out { get; set; } = [];
    public double[] Dx { get; set; } = [];
    public double[] Dweight { get; set; } = [];
    public double[] Dbias { get; set; } = [];
    public double[] Test_X { get; set; } = [];
    public int Test_N { get; set; }
    public double[] Eval_Out { get; set; } = [];

    public int SpatialSize => H * W;

    public int Length => N * C * H * W;
}
