using System.Diagnostics;
using System.Globalization;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Training;

namespace Cluster.Silo;

/// <summary>
/// <c>demo</c>: trains the demo model (<see cref="DemoPreset"/>) on the built-in corpus with the reference trainer,
/// printing step, loss, tokens/s and ETA, and saves the final state as per-layer safetensors files.
/// </summary>
internal static class DemoCommand
{
    private const string Usage = """
        Usage: Cluster.Silo demo [--steps N] [--data synthetic|FILE] [--out DIR] [--device auto|cpu|cuda:N] [--threads N]
          --steps    optimizer steps (default 300)
          --data     'synthetic' (built-in corpus, default), a text file (bytes) or a nanoGPT uint16 .bin file
          --out      where the final checkpoint goes (default runs/demo)
          --device   compute device (default auto: CUDA when available, else CPU)
          --threads  libtorch intra-op threads (default: libtorch's choice)
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] != "demo")
        {
            Console.Error.WriteLine(Usage);
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
        }
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length || args[i] is not ("--steps" or "--data" or "--out" or "--device" or "--threads"))
            {
                Console.Error.WriteLine($"Unknown or incomplete option '{args[i]}'.");
                Console.Error.WriteLine(Usage);
                return 2;
            }
            options[args[i][2..]] = args[++i];
        }
        try
        {
            int steps = ParseCount(options, "steps", DemoPreset.Steps, minimum: 1);
            int threads = ParseCount(options, "threads", 0, minimum: 0);
            string output = options.GetValueOrDefault("out", Path.Combine("runs", "demo"));
            var trainerOptions = DemoPreset.Options(steps) with { Device = options.GetValueOrDefault("device", "auto"), Threads = threads };
            var data = TokenSources.Open(options.GetValueOrDefault("data", TokenSources.Synthetic));
            return Train(trainerOptions, data, steps, output);
        }
        catch (Exception e) when (e is ArgumentException or ConfigValidationException or FileNotFoundException or InvalidDataException or CheckpointCorruptException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int Train(TrainerOptions options, ITokenSource data, int steps, string output)
    {
        var config = options.Model;
        using var trainer = new ReferenceTrainer(options, data);
        Console.WriteLine($"Demo job: GPT {config.Layers} layers × d_model {config.DModel}, {config.Heads} heads, context {config.ContextLength}, " +
                          $"{trainer.ParameterCount:N0} parameters on {trainer.Device}");
        Console.WriteLine($"Data: {data.Name} ({data.Length:N0} tokens); {options.TokensPerStep:N0} tokens/step; {steps} steps");
        var clock = Stopwatch.StartNew();
        double firstLoss = double.NaN, lastLoss = double.NaN;
        for (int s = 0; s < steps; s++)
        {
            var result = trainer.TrainStep();
            if (s == 0) firstLoss = result.Loss;
            lastLoss = result.Loss;
            if (s == 0 || (s + 1) % 10 == 0 || s == steps - 1)
            {
                double tokensPerSecond = (s + 1) * (double)options.TokensPerStep / clock.Elapsed.TotalSeconds;
                var eta = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / (s + 1) * (steps - s - 1));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {s + 1,5}/{steps}  loss {result.Loss,7:F4}  lr {result.LearningRate:E2}  |g| {result.GradientNorm,6:F3}  {tokensPerSecond,8:N0} tok/s  ETA {eta:m\\:ss}"));
            }
        }
        trainer.SaveState(output);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Done in {clock.Elapsed:m\\:ss}: loss {firstLoss:F4} → {lastLoss:F4}. Checkpoint (one safetensors file per layer): {Path.GetFullPath(output)}"));
        return 0;
    }

    private static int ParseCount(Dictionary<string, string> options, string name, int fallback, int minimum)
    {
        if (!options.TryGetValue(name, out var text)) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= minimum
            ? value
            : throw new ArgumentException($"--{name} '{text}' must be an integer ≥ {minimum}.");
    }
}
