using System.Diagnostics;
using System.Globalization;
using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;

namespace Cluster.Bench;

/// <summary>
/// <c>kernels</c>: tokens/s of the reference trainer vs the in-process stage pipeline with P = 1, 2, 4 on the demo
/// model, under the 1F1B schedule (the ratios in the RESULT line) and GPipe, measured side by side in rounds (each round runs every contender for the same number of steps, so machine
/// noise hits all of them alike). Reports the wire traffic each pipeline adds. With <c>--gc-stress</c> it then trains
/// the reference and the pipeline again under <see cref="Kernels.Tests.GcStress"/> (see <see cref="KernelsGcStressCheck"/>).
/// </summary>
internal static class KernelsBenchmark
{
    public static Task<int> RunAsync(BenchArguments args)
    {
        int steps = args.Int("steps", 4);
        int rounds = args.Int("rounds", 5);
        int warmup = args.Int("warmup", 3);
        int threads = args.Int("threads", 0);
        bool gcStress = args.Has("gc-stress");
        int stressSteps = args.Int("stress-steps", 4);
        args.EnsureAllUsed();

        var options = DemoPreset.Options(steps: 10_000) with { Threads = threads, Device = "auto" };
        var corpus = SyntheticCorpus.Source();
        var config = options.Model;
        Console.WriteLine($"kernels benchmark — demo model: vocab {config.VocabSize}, context {config.ContextLength}, d_model {config.DModel}, " +
                          $"{config.Layers} layers, {config.Heads} heads, {config.ParameterCount:N0} parameters; " +
                          $"{options.MicroBatches} × {options.MicroBatchSize} sequences = {options.TokensPerStep:N0} tokens/step");
        Console.WriteLine($"{rounds} rounds × {steps} steps per contender after {warmup} warm-up steps; threads: {(threads == 0 ? "libtorch default" : threads)}");

        var contenders = new List<Contender>
        {
            new("reference", null, new ReferenceTrainer(options, corpus)),
        };
        foreach (var schedule in new[] { PipelineSchedule.OneForwardOneBackward, PipelineSchedule.GPipe })
        {
            foreach (int p in new[] { 1, 2, 4 })
            {
                var plan = StagePlan.Balanced(config, p);
                string label = schedule == PipelineSchedule.GPipe ? "gpipe" : "1f1b";
                contenders.Add(new($"{label} P={p}", plan, new PipelineTrainer(options, plan, corpus, schedule)));
            }
        }
        try
        {
            foreach (var c in contenders)
                for (int i = 0; i < warmup; i++) c.Step();

            for (int round = 0; round < rounds; round++)
                foreach (var c in contenders)
                    c.Measure(steps);

            var reference = contenders[0];
            Console.WriteLine();
            Console.WriteLine($"{"contender",-14} {"tokens/s",10} {"ms/step",9} {"ratio",7} {"wire MB/step",13} {"copy ms/step",13}  plan");
            foreach (var c in contenders)
            {
                double ratio = c.TokensPerSecond(options.TokensPerStep) / reference.TokensPerSecond(options.TokensPerStep);
                Console.WriteLine($"{c.Name,-14} {c.TokensPerSecond(options.TokensPerStep),10:N0} {c.MillisecondsPerStep,9:F1} {ratio,7:F3} " +
                                  $"{c.WireBytesPerStep / 1e6,13:F2} {c.CopyMillisecondsPerStep,13:F2}  {c.Plan?.ToString() ?? "uncut"}");
            }
            string stressResult = "";
            if (gcStress)
            {
                var (errors, identical, collections) = KernelsGcStressCheck.Run(options, corpus, stressSteps);
                Console.WriteLine($"gc-stress: reference and 1F1B P=2, P=4 for {stressSteps} steps each under {collections:N0} forced collections: {errors} errors, {(identical ? "bit-identical" : "NOT bit-identical")}");
                stressResult = FormattableString.Invariant($" gc_stress_errors={errors} identical={(identical ? "true" : "false")}");
            }
            string Ratio(int i) => (contenders[i].TokensPerSecond(options.TokensPerStep) / reference.TokensPerSecond(options.TokensPerStep)).ToString("F3", CultureInfo.InvariantCulture);
            Console.WriteLine();
            Console.WriteLine(FormattableString.Invariant(
                $"RESULT ratio_p1={Ratio(1)} ratio_p2={Ratio(2)} ratio_p4={Ratio(3)} ratio_p2_gpipe={Ratio(5)} reference_tokens_per_s={reference.TokensPerSecond(options.TokensPerStep):F0} parameters={config.ParameterCount}{stressResult}"));
            return Task.FromResult(0);
        }
        finally
        {
            foreach (var c in contenders) c.Dispose();
        }
    }

    private sealed class Contender(string name, StagePlan? plan, IDisposable trainer) : IDisposable
    {
        private readonly List<double> _stepSeconds = [];
        private long _wireBytes;
        private TimeSpan _copyTime;

        public string Name => name;

        public StagePlan? Plan => plan;

        public double MillisecondsPerStep => _stepSeconds.Sum() / _stepSeconds.Count * 1000;

        public double WireBytesPerStep => (double)_wireBytes / _stepSeconds.Count;

        public double CopyMillisecondsPerStep => _copyTime.TotalMilliseconds / _stepSeconds.Count;

        public double TokensPerSecond(long tokensPerStep) => tokensPerStep * _stepSeconds.Count / _stepSeconds.Sum();

        public void Step()
        {
            switch (trainer)
            {
                case ReferenceTrainer r: r.TrainStep(); break;
                case PipelineTrainer p: p.TrainStep(); break;
            }
        }

        public void Measure(int steps)
        {
            long bytesBefore = TensorWire.BytesOut + TensorWire.BytesIn;
            var copyBefore = TensorWire.CopyTime;
            for (int i = 0; i < steps; i++)
            {
                long started = Stopwatch.GetTimestamp();
                Step();
                _stepSeconds.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            _wireBytes += TensorWire.BytesOut + TensorWire.BytesIn - bytesBefore;
            _copyTime += TensorWire.CopyTime - copyBefore;
        }

        public void Dispose() => trainer.Dispose();
    }
}
