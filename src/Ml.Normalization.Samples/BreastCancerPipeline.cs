using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Ml.Normalization.Samples;

/// <summary>Test-set metrics of one pipeline variant (the positive class is the file's label 1, benign).</summary>
public sealed record PipelineMetrics(string Name, double Accuracy, double Auc, double F1);

/// <summary>One test row scored by the model before saving and by the model loaded back from the file.</summary>
public sealed record SavedModelCheck(int Row, float ProbabilityBefore, float ProbabilityAfter, bool LabelBefore, bool LabelAfter)
{
    public bool Matches => ProbabilityBefore.Equals(ProbabilityAfter) && LabelBefore == LabelAfter;
}

/// <summary>The running statistics of one feature after the first <see cref="Batches"/> mini-batches of the fit.</summary>
public sealed record RunningStatisticsPoint(int Batches, double Mean, double Variance, double MeanNoBiasCorrection, double VarianceNoBiasCorrection);

/// <summary>What <see cref="BreastCancerPipeline.Run"/> measured and wrote.</summary>
public sealed record PipelineReport(
    IReadOnlyList<PipelineMetrics> Metrics,
    IReadOnlyList<SavedModelCheck> SavedModelChecks,
    IReadOnlyList<RunningStatisticsPoint> RunningStatistics,
    BatchNormalizationParameters FittedStatistics,
    IReadOnlyList<string> Files);

/// <summary>
/// The default run: one binary classifier (SDCA logistic regression) on the breast-cancer data, trained four
/// ways: no normalization, NormalizeMeanVariance, BatchNormalize, BatchNormalize + Dropout.
/// </summary>
public static class BreastCancerPipeline
{
    /// <summary>Knobs of the run; the defaults are what <c>dotnet run</c> uses.</summary>
    /// <param name="Seed">Seed of the MLContext, the train/test split and the dropout masks.</param>
    /// <param name="BatchSize">Rows per mini-batch of the BatchNormalize fit. 32 gives ~14 batches on the ~450
    /// training rows, enough to watch the running statistics settle.</param>
    /// <param name="DropProbability">p of the Dropout stage.</param>
    /// <param name="RowsToCheck">Test rows scored before and after the save/load round trip.</param>
    public sealed record Options(int Seed = 1, int BatchSize = 32, float DropProbability = 0.2f, int RowsToCheck = 5);

    /// <summary>The feature whose running statistics are plotted: "mean area", values in the hundreds to thousands.</summary>
    public const int TrackedFeature = 3;

    /// <summary>Features shown in the histograms: three very different scales.</summary>
    public static readonly int[] HistogramFeatures = [3, 4, 27]; // mean area, mean smoothness, worst concave points

    public static PipelineReport Run(string outputDirectory, Options? options = null, TextWriter? log = null)
    {
        options ??= new Options();
        log ??= TextWriter.Null;
        Directory.CreateDirectory(outputDirectory);
        var ml = new MLContext(seed: options.Seed);

        // The file's first line is scikit-learn's "569,30,malignant,benign" (counts and class names), not column
        // names: hasHeader only skips it. The column layout comes from the attributes on BreastCancerRow.
        IDataView data = ml.Data.LoadFromTextFile<BreastCancerRow>(SampleData.BreastCancerPath, separatorChar: ',', hasHeader: true);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: options.Seed);
        var train = ml.Data.Cache(split.TrainSet); // parsed once: SDCA makes many passes
        long trainRows = CountRows(split.TrainSet), testRows = CountRows(split.TestSet);
        log.WriteLine($"Breast cancer (Wisconsin diagnostic): {trainRows} training rows, {testRows} test rows, 30 features.");

        // 1. The same trainer behind four different front ends, each written as one flat chain.
        //  - NormalizeMeanVariance with fixZero: false centres and scales, the same map as BatchNormalize but with
        //    whole-data statistics: the like-for-like baseline. (Its default, fixZero: true, only scales, to keep
        //    sparse zeros zero.)
        //  - Dropout perturbs the data only for the stages after it in the same chain. Do not keep
        //    "BatchNormalize + Dropout" as an IEstimator<ITransformer> of its own and append the trainer to that:
        //    the result nests the chain, the outer chain applies it as a scorer, and no dropout reaches the trainer.
        var pipelines = new (string Name, IEstimator<ITransformer> Pipeline)[]
        {
            ("no normalization", Trainer(ml)),
            ("NormalizeMeanVariance", ml.Transforms.NormalizeMeanVariance("Features", fixZero: false)
                .Append(Trainer(ml))),
            ("BatchNormalize", ml.Transforms.BatchNormalize("Features", batchSize: options.BatchSize)
                .Append(Trainer(ml))),
            ("BatchNormalize + Dropout", ml.Transforms.BatchNormalize("Features", batchSize: options.BatchSize)
                .Append(ml.Transforms.Dropout("Features", dropProbability: options.DropProbability, seed: options.Seed))
                .Append(Trainer(ml))),
        };

        var metrics = new List<PipelineMetrics>();
        var models = new Dictionary<string, ITransformer>();
        foreach (var (name, pipeline) in pipelines)
        {
            log.Write($"  training: {name,-26}");
            var clock = Stopwatch.StartNew();
            var model = pipeline.Fit(train);
            var m = ml.BinaryClassification.Evaluate(model.Transform(split.TestSet));
            metrics.Add(new PipelineMetrics(name, m.Accuracy, m.AreaUnderRocCurve, m.F1Score));
            log.WriteLine($" {clock.Elapsed.TotalSeconds:F2} s");
            models[name] = model;
        }

        // 2. Save the BatchNormalize model, load it with a new MLContext, score the same rows with both.
        var batchNormModel = models["BatchNormalize"];
        var files = new List<string>();
        string modelPath = Path.Combine(outputDirectory, "breast-cancer-batchnormalize.zip");
        ml.Model.Save(batchNormModel, data.Schema, modelPath);
        files.Add(modelPath);
        log.WriteLine("  saved the BatchNormalize model; loading it back with a new MLContext ...");
        var checks = CompareAfterReload(ml, batchNormModel, modelPath, split.TestSet, options.RowsToCheck);

        // 3. Pictures: feature distributions before and after the fitted BatchNormalize stage of that model ...
        log.WriteLine("  plotting ...");
        var plotClock = Stopwatch.StartNew();
        var batchNormStage = batchNormModel.GetStages<BatchNormalizingTransformer>().Single();
        var before = train.GetColumn<float[]>("Features").ToArray();
        var after = batchNormStage.Transform(train).GetColumn<float[]>("Features").ToArray();
        var histograms = HistogramFeatures
            .Select(j => (SampleData.BreastCancerFeatureNames[j], before.Select(r => (double)r[j]).ToArray(), after.Select(r => (double)r[j]).ToArray()))
            .ToList();
        files.Add(Plots.FeatureHistograms(Path.Combine(outputDirectory, "breast-cancer-histograms.svg"), histograms));

        // ... and how the running statistics of one feature settle over the mini-batches of the fit.
        var runningStatistics = RunningStatisticsPerBatch(ml, train, trainRows, options.BatchSize);
        var feature = before.Select(r => (double)r[TrackedFeature]).ToArray();
        double mean = feature.Average();
        double variance = feature.Select(v => (v - mean) * (v - mean)).Average();
        files.Add(Plots.RunningStatistics(Path.Combine(outputDirectory, "breast-cancer-running-statistics.svg"),
            SampleData.BreastCancerFeatureNames[TrackedFeature], options.BatchSize, runningStatistics, mean, variance));

        log.WriteLine($"  plots: {plotClock.Elapsed.TotalSeconds:F1} s");
        return new PipelineReport(metrics, checks, runningStatistics, batchNormStage.Columns[0], files);
    }

    /// <summary>Prints the report the way the app shows it.</summary>
    public static void Print(PipelineReport report, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine("Test set (positive class: benign)   accuracy     AUC      F1");
        foreach (var m in report.Metrics)
        {
            output.WriteLine($"  {m.Name,-32} {m.Accuracy,8:P1} {m.Auc,7:F4} {m.F1,7:F4}");
        }

        output.WriteLine();
        output.WriteLine("BatchNormalize model, scored before Model.Save and after Model.Load (new MLContext):");
        output.WriteLine("  test row   P(benign) before   P(benign) after   label before/after");
        foreach (var c in report.SavedModelChecks)
        {
            output.WriteLine($"  {c.Row,8}   {c.ProbabilityBefore,16:R}   {c.ProbabilityAfter,15:R}   {c.LabelBefore}/{c.LabelAfter}");
        }

        output.WriteLine(report.SavedModelChecks.All(c => c.Matches)
            ? "  identical: the loaded model gives the same predictions, bit for bit."
            : "  MISMATCH: the loaded model does not reproduce the predictions.");
        var fitted = report.FittedStatistics;
        output.WriteLine();
        output.WriteLine($"The model's BatchNormalize stage saw {fitted.RowCount} rows in {fitted.BatchCount} mini-batches; " +
            $"'{SampleData.BreastCancerFeatureNames[TrackedFeature]}' has running mean {fitted.RunningMean[TrackedFeature]:F1}, " +
            $"running variance {fitted.RunningVariance[TrackedFeature]:F0}.");
    }

    // One thread: SDCA's result then depends only on the seed, so every run prints the same table. A fixed,
    // moderate L2 and an iteration cap: left to itself SDCA picks L2 ~ 3e-5 here (nearly unregularized), runs up to
    // ~3000 passes on the raw features, and overfits this small, almost separable set.
    private static SdcaLogisticRegressionBinaryTrainer Trainer(MLContext ml) =>
        ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = "Label",
            FeatureColumnName = "Features",
            L2Regularization = 0.01f,
            MaximumNumberOfIterations = 100,
            NumberOfThreads = 1,
        });

    private static List<SavedModelCheck> CompareAfterReload(MLContext ml, ITransformer model, string modelPath, IDataView test, int rows)
    {
        var sample = ml.Data.CreateEnumerable<BreastCancerRow>(ml.Data.TakeRows(test, rows), reuseRowObject: false).ToList();
        var engineBefore = ml.Model.CreatePredictionEngine<BreastCancerRow, BreastCancerPrediction>(model);

        // A fresh MLContext, as a scoring service would have: no registration call, Model.Load finds our stages.
        var scoringContext = new MLContext();
        var loaded = scoringContext.Model.Load(modelPath, out _);
        var engineAfter = scoringContext.Model.CreatePredictionEngine<BreastCancerRow, BreastCancerPrediction>(loaded);

        return [.. sample.Select((row, i) =>
        {
            var b = engineBefore.Predict(row);
            var a = engineAfter.Predict(row);
            return new SavedModelCheck(i, b.Probability, a.Probability, b.PredictedLabel, a.PredictedLabel);
        })];
    }

    /// <summary>
    /// The running mean and variance of <see cref="TrackedFeature"/> after 1, 2, ..., K mini-batches.
    /// </summary>
    /// <remarks>
    /// The library keeps no per-batch history, so this fits BatchNormalize again on growing prefixes of the
    /// training data: the first k * batchSize rows are exactly the first k mini-batches of the full fit, so the
    /// statistics after that prefix are the full fit's statistics after batch k. K fits of up to K batches each:
    /// quadratic, and fine for a few hundred rows. Done twice: with the default bias correction and without it
    /// (the seed article's plain moving average, which starts from 0).
    /// </remarks>
    private static List<RunningStatisticsPoint> RunningStatisticsPerBatch(MLContext ml, IDataView train, long trainRows, int batchSize)
    {
        int batches = (int)((trainRows + batchSize - 1) / batchSize);
        var points = new List<RunningStatisticsPoint>();
        for (int k = 1; k <= batches; k++)
        {
            var prefix = ml.Data.TakeRows(train, (long)k * batchSize);
            var corrected = ml.Transforms.BatchNormalize("Features", new BatchNormalizingEstimator.Options { BatchSize = batchSize })
                .Fit(prefix).Columns[0];
            var plain = ml.Transforms.BatchNormalize("Features", new BatchNormalizingEstimator.Options { BatchSize = batchSize, BiasCorrection = false })
                .Fit(prefix).Columns[0];
            points.Add(new RunningStatisticsPoint(k,
                corrected.RunningMean[TrackedFeature], corrected.RunningVariance[TrackedFeature],
                plain.RunningMean[TrackedFeature], plain.RunningVariance[TrackedFeature]));
        }

        return points;
    }

    private static long CountRows(IDataView view) => view.GetRowCount() ?? view.GetColumn<bool>("Label").LongCount();

    /// <summary>The output columns of the binary classifier that the prediction engine reads.</summary>
    public sealed class BreastCancerPrediction
    {
        [ColumnName("PredictedLabel")]
        public bool PredictedLabel { get; set; }

        public float Probability { get; set; }
    }
}
