using System.Globalization;
using Cluster.Kernels.Config;
using Cluster.Kernels.Planning;

namespace Cluster.Bench;

/// <summary>
/// <c>plan</c>: the fastest 3-D parallel layout that fits, with memory per GPU, for the preset models on 16,384 H100s
/// (80 GB) and H200s (141 GB) — or for a model and fleet given by flags — and, for the largest model, why the layouts
/// without recomputation are refused.
/// </summary>
internal static class PlanCommand
{
    public static Task<int> RunAsync(BenchArguments args)
    {
        int layers = args.Int("layers", 0), dModel = args.Int("d-model", 0), heads = args.Int("heads", 0), vocab = args.Int("vocab", 128_256),
            context = args.Int("context", 8_192), dtype = args.Int("dtype-bytes", 2), batch = args.Int("global-batch", 0),
            gpus = args.Int("gpus", 16_384), memoryGb = args.Int("gpu-memory-gb", 0), perNode = args.Int("gpus-per-node", 8),
            intra = args.Int("intra-gbps", 450), inter = args.Int("inter-gbps", 50), tflops = args.Int("tflops", 989);
        args.EnsureAllUsed();

        var rows = new List<(ModelShape Model, FleetShape Fleet, TrainingShape Training)>();
        if (layers > 0 || dModel > 0 || heads > 0)
        {
            if (layers == 0 || dModel == 0 || heads == 0)
                throw new ArgumentException("A custom model needs --layers, --d-model and --heads (and optionally --vocab, --context, --dtype-bytes).");
            var model = new ModelShape("custom", layers, dModel, heads, vocab, context, DTypeBytes: dtype);
            var training = new TrainingShape(batch > 0 ? batch : 1_024);
            var fleets = memoryGb > 0
                ? [new FleetShape($"{gpus:N0} × {memoryGb} GB", gpus, memoryGb * 1_000_000_000L, perNode, tflops, intra, inter)]
                : PlannerPresets.FleetKinds.Select(kind => kind(gpus)).ToArray();
            rows.AddRange(fleets.Select(f => (model, f, training)));
        }
        else
        {
            foreach (var (model, training, presetGpus) in PlannerPresets.Models)
                foreach (var kind in PlannerPresets.FleetKinds)
                    rows.Add((model, kind(presetGpus), batch > 0 ? training with { GlobalBatchSequences = batch } : training));
        }

        try
        {
            var results = rows.Select(r => (r.Model, r.Fleet, r.Training, Result: TrainingPlanner.Plan(r.Model, r.Fleet, r.Training))).ToArray();
            Console.WriteLine($"{"model",-13} {"params",8} {"fleet",-24} {"P",4} {"T",2} {"D",5} {"b",2} {"M",4} {"recompute",-9} {"GB/GPU",7} {"wts",5} {"grads",5} {"optim",5} {"activ",5} {"bubble",6} {"step s",7} {"Mtok/s",7} {"MFU",5}");
            foreach (var (model, fleet, _, result) in results)
            {
                string head = $"{model.Name,-13} {model.ParameterCount / 1e9,7:F1}B {fleet.Name,-24}";
                if (result.Best is not { } e)
                {
                    Console.WriteLine($"{head} REFUSED: {result.Refusal}");
                    continue;
                }
                var m = e.Memory;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{head} {e.Plan.Pipeline,4} {e.Plan.Tensor,2} {e.DataParallel,5} {e.Plan.MicroBatchSize,2} {e.MicroBatches,4} {e.Plan.Recompute.ToString().ToLowerInvariant(),-9} " +
                    $"{m.Total / 1e9,7:F1} {m.Weights / 1e9,5:F1} {m.Gradients / 1e9,5:F1} {m.OptimizerState / 1e9,5:F1} {m.Activations / 1e9,5:F1} {e.BubbleFraction,6:P0} {e.StepSeconds,7:F2} {e.TokensPerSecond / 1e6,7:F2} {e.ModelFlopsUtilization,5:P0}"));
            }

            foreach (var (model, fleet, _, result) in results.Where(r => r.Model.ParameterCount == results.Max(x => x.Model.ParameterCount)))
            {
                Console.WriteLine();
                Console.WriteLine($"{model.Name} on {fleet.Name}: the fastest layout of each kind, and why it is refused when it is");
                foreach (var recompute in Enum.GetValues<ActivationRecompute>())
                {
                    var fastest = result.Considered.Where(c => c.Plan.Recompute == recompute).MinBy(c => c.StepSeconds);
                    if (fastest is null) continue;
                    var fitting = result.Considered.Where(c => c.Plan.Recompute == recompute && c.Fits).MinBy(c => c.StepSeconds);
                    string verdict = fastest.Fits ? "fits" : $"REFUSED, {fastest.Reason?.TrimEnd('.')}";
                    string alternative = fitting is null ? "; none of this kind fits"
                        : fitting != fastest ? string.Create(CultureInfo.InvariantCulture, $"; fastest that fits: {fitting.Plan} D={fitting.DataParallel}, {fitting.StepSeconds:F2} s/step, {fitting.Memory.Total / 1e9:F1} GB")
                        : "";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {recompute,-9}: fastest {fastest.Plan} D={fastest.DataParallel} ({fastest.StepSeconds:F2} s/step) {verdict}{alternative}"));
                }
            }

            var big = results.Where(r => r.Model == PlannerPresets.Decoder500B).ToArray();
            if (big.Length == 2)
            {
                Console.WriteLine();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"RESULT params_500b={PlannerPresets.Decoder500B.ParameterCount} plan_80gb={Layout(big[0].Result)} gb_per_gpu_80gb={Gb(big[0].Result)} step_s_80gb={Step(big[0].Result)} " +
                    $"plan_141gb={Layout(big[1].Result)} gb_per_gpu_141gb={Gb(big[1].Result)} step_s_141gb={Step(big[1].Result)}"));
            }
            else
            {
                var first = results[0].Result;
                Console.WriteLine();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT plan={Layout(first)} gb_per_gpu={Gb(first)} step_s={Step(first)}"));
            }
            return Task.FromResult(results.All(r => r.Result.Best is not null) ? 0 : 1);
        }
        catch (ConfigValidationException e)
        {
            Console.Error.WriteLine(e.Message);
            return Task.FromResult(2);
        }
    }

    private static string Layout(PlanningResult r) => r.Best is { } e ? $"P{e.Plan.Pipeline}xT{e.Plan.Tensor}xD{e.DataParallel}/b{e.Plan.MicroBatchSize}/{e.Plan.Recompute.ToString().ToLowerInvariant()}" : "none";

    private static string Gb(PlanningResult r) => r.Best is { } e ? (e.Memory.Total / 1e9).ToString("F1", CultureInfo.InvariantCulture) : "-";

    private static string Step(PlanningResult r) => r.Best is { } e ? e.StepSeconds.ToString("F2", CultureInfo.InvariantCulture) : "-";
}
