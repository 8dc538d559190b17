using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// The ML.NET environment behind a catalog, and its channels. <c>CatalogUtils.GetEnvironment</c> is internal:
/// there is no public way to reach the MLContext's seed, log and cancellation from a catalog extension.
/// </summary>
internal static class MlNetEnvironment
{
    /// <summary>The environment (seed, log, cancellation) of the MLContext that owns <paramref name="catalog"/>.</summary>
    /// <remarks>A gate of <see cref="SeamCheck"/>: every catalog extension comes here before it touches ML.NET.</remarks>
    /// <exception cref="NotSupportedException">The loaded ML.NET lacks a member this library binds to.</exception>
    public static IHostEnvironment Of(TransformsCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        SeamCheck.EnsureCompatible();
        return EnvironmentOf(catalog);

        // Its own method, so that the internal call is compiled only after the check has passed.
        [MethodImpl(MethodImplOptions.NoInlining)]
        static IHostEnvironment EnvironmentOf(TransformsCatalog catalog) => catalog.GetEnvironment();
    }

    /// <summary>A named host under <paramref name="environment"/>; its channels reach <c>mlContext.Log</c>.</summary>
    public static IHost Register(IHostEnvironment environment, string name) => environment.Register(name);

    /// <summary>
    /// A seed for a stage that was given none: drawn from the environment's random source, so it is the same run after
    /// run for <c>new MLContext(seed: n)</c> and differs between MLContexts made without a seed.
    /// </summary>
    public static int DrawSeed(IHost host) => host.Rand.Next();

    /// <summary>Writes an informational message to <c>mlContext.Log</c> through a channel of <paramref name="host"/>.</summary>
    public static void Info(IHost host, string channelName, string message)
    {
        using var channel = host.Start(channelName);
        channel.Info(MessageSensitivity.None, message);
    }

    /// <summary>Writes a warning to <c>mlContext.Log</c> through a channel of <paramref name="host"/>.</summary>
    public static void Warning(IHost host, string channelName, string message)
    {
        using var channel = host.Start(channelName);
        channel.Warning(MessageSensitivity.None, message);
    }

    /// <summary>
    /// Starts ML.NET's progress reporting for a long pass: the environment pulls <paramref name="rowsRead"/> when it
    /// reports (nothing is allocated per row or per batch). Dispose to end it.
    /// </summary>
    public static IDisposable StartProgress(IHost host, string name, Func<long> rowsRead)
    {
        var channel = host.StartProgressChannel(name);
        channel.SetHeader(new ProgressHeader(["rows"]), entry => entry.SetProgress(0, rowsRead()));
        return channel;
    }

    /// <summary>Throws if the environment was cancelled.</summary>
    public static void CheckAlive(IHost host) => host.CheckAlive();
}
