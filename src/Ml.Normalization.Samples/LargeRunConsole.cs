using System.Globalization;
using Spectre.Console;

namespace Ml.Normalization.Samples;

/// <summary>
/// <c>dotnet run --project src/Ml.Normalization.Samples -- large [--rows N] [--out DIR]</c>: the large run with a
/// progress bar (Spectre.Console) on a terminal, and a few plain progress lines when the output is redirected.
/// </summary>
public static class LargeRunConsole
{
    public const string Usage = "usage: Ml.Normalization.Samples large [--rows N] [--out DIR]";

    public static int Run(string[] args)
    {
        string outputDirectory = Path.GetFullPath("samples-output");
        var options = new LargeRun.Options();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "large":
                    break;
                case "--out" when i + 1 < args.Length:
                    outputDirectory = Path.GetFullPath(args[++i]);
                    break;
                case "--rows" when i + 1 < args.Length && long.TryParse(args[i + 1].Replace("_", "", StringComparison.Ordinal),
                    NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out long rows) && rows >= 2:
                    options = options with { Rows = rows };
                    i++;
                    break;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        var console = AnsiConsole.Console;
        // A live bar needs a terminal that takes cursor movements; otherwise (redirected, CI, tests) plain lines.
        bool live = console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi && !Console.IsOutputRedirected;
        Console.WriteLine($"Large run: {options.Rows:N0} rows x {LargeData.Slots} Single slots, BatchNormalize in mini-batches of {options.BatchSize}.");

        LargeDataset dataset;
        if (File.Exists(LargeRun.CachePath(outputDirectory, options)))
        {
            dataset = LargeRun.EnsureDataset(outputDirectory, options);
        }
        else if (live)
        {
            dataset = Bar(console, "generate", options.Rows, task => LargeRun.EnsureDataset(outputDirectory, options, rows => task.Value = rows));
        }
        else
        {
            var lines = new PlainLines("generate", options.Rows);
            dataset = LargeRun.EnsureDataset(outputDirectory, options, rows => lines.Report(rows, null));
        }

        LargeFitReport report;
        if (live)
        {
            report = console.Progress()
                .AutoClear(false)
                .Columns(Columns())
                .Start(context =>
                {
                    var read = context.AddTask("read only", maxValue: options.Rows);
                    var fit = context.AddTask("fit", autoStart: false, maxValue: options.Rows);
                    return LargeRun.Fit(dataset, options,
                        new ActionProgress(p =>
                        {
                            fit.StartTask();
                            fit.MaxValue = p.TotalRows ?? fit.MaxValue;
                            fit.Value = p.RowsRead;
                        }),
                        rows =>
                        {
                            read.Value = rows;
                            if (rows == options.Rows)
                            {
                                read.StopTask();
                            }
                        });
                });
        }
        else
        {
            Console.WriteLine("  reading the file once without fitting ...");
            var lines = new PlainLines("fit", options.Rows);
            report = LargeRun.Fit(dataset, options, new ActionProgress(p => lines.Report(p.RowsRead, p.RowsPerSecond)));
        }

        Console.WriteLine();
        LargeRun.Print(report, Console.Out);
        return report.Checks.All(c => c.Within) && report.LastProgress is { IsComplete: true } ? 0 : 1;
    }

    private static T Bar<T>(IAnsiConsole console, string name, long rows, Func<ProgressTask, T> work) =>
        console.Progress()
            .AutoClear(false)
            .Columns(Columns())
            .Start(context =>
            {
                var task = context.AddTask(name, maxValue: rows);
                var result = work(task);
                task.Value = task.MaxValue;
                return result;
            });

    private static ProgressColumn[] Columns() =>
        [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn()];

    /// <summary>A line at every 10 % of the rows (and at the end): readable in a log file.</summary>
    private sealed class PlainLines(string name, long total)
    {
        private int _nextTenth = 1;
        private long _printed = -1;

        public void Report(long rows, double? rowsPerSecond)
        {
            if (rows == _printed || (rows * 10 < _nextTenth * total && rows < total))
            {
                return;
            }

            _printed = rows;

            _nextTenth = (int)Math.Min(10, rows * 10 / total) + 1;
            Console.WriteLine($"  {name}: {rows:N0} of {total:N0} rows ({100.0 * rows / total:F0}%)" +
                (rowsPerSecond is { } speed ? $", {speed:N0} rows/s" : ""));
        }
    }

    /// <summary>Calls the action on the reporting thread, at once (<see cref="Progress{T}"/> would post it elsewhere).</summary>
    private sealed class ActionProgress(Action<FitProgress> action) : IProgress<FitProgress>
    {
        public void Report(FitProgress value) => action(value);
    }
}
