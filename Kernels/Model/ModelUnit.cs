using Cluster.Kernels.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace Cluster.Kernels.Model;

/// <summary>
/// One unit of the model (embedding, a block, or the head) with its parameters in a fixed order. Initial weights are
/// drawn from a generator seeded by (model seed, unit index) alone, on the CPU, so every partition of a model and every
/// device starts from the same bits.
/// </summary>
internal sealed class ModelUnit : IDisposable
{
    private ModelUnit(int index, string name, nn.Module<Tensor, Tensor> module, IReadOnlyList<ParameterSlot> parameters)
    {
        Index = index;
        Name = name;
        Module = module;
        Parameters = parameters;
    }

    public int Index { get; }

    public string Name { get; }

    public nn.Module<Tensor, Tensor> Module { get; }

    public IReadOnlyList<ParameterSlot> Parameters { get; }

    public static ModelUnit Create(ModelConfig config, int unit, Device device)
    {
        string name = ModelLayout.UnitName(config, unit);
        nn.Module<Tensor, Tensor> module = ModelLayout.IsEmbedding(unit) ? new EmbeddingUnit(config)
            : ModelLayout.IsHead(config, unit) ? new LmHeadUnit(config)
            : new TransformerBlock(config, unit - 1);
        Initialize(config, unit, module);
        if (device.type != DeviceType.CPU) module.to(device);
        var slots = module.named_parameters()
            .Select(p => new ParameterSlot(p.name, $"{name}.{p.name}", p.parameter, Decay: p.parameter.dim() >= 2))
            .ToArray();
        return new ModelUnit(unit, name, module, slots);
    }

    private static void Initialize(ModelConfig config, int unit, nn.Module<Tensor, Tensor> module)
    {
        using var generator = new Generator(SeedMixer.Combine(config.Seed, unit), CPU);
        double residualStd = 0.02 / Math.Sqrt(2.0 * config.Layers); // GPT-2: scale the projections into the residual
        using var noGrad = no_grad();
        // Some in-place ops (zero_) return a fresh handle in TorchSharp 0.107: the scope disposes those.
        using var scope = NewDisposeScope();
        using var one = 1.0.ToScalar();
        using var residual = residualStd.ToScalar();
        using var normal = 0.02.ToScalar();
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (name.EndsWith(".bias", StringComparison.Ordinal))
                parameter.zero_();
            else if (name.StartsWith("ln", StringComparison.Ordinal))
                parameter.fill_(one);
            else
            {
                var std = name is "attn_proj.weight" or "mlp_proj.weight" ? residual : normal;
                parameter.copy_(randn(parameter.shape, ScalarType.Float32, CPU, generator: generator).mul_(std));
            }
        }
    }

    /// <summary>A copy of every parameter's float32 values by global name (for equivalence checks and tools).</summary>
    public static Dictionary<string, float[]> ParameterValues(IEnumerable<ModelUnit> units)
    {
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var slot in units.SelectMany(u => u.Parameters))
        {
            using var scope = NewDisposeScope();
            values[slot.GlobalName] = slot.Parameter.detach().cpu().data<float>().ToArray();
        }
        return values;
    }

    public void Dispose() => Module.Dispose();
}
