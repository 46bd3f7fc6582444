using TorchSharp.Modules;

namespace Cluster.Kernels.Model;

/// <summary>One trainable tensor of a unit: its key inside the unit, its global key, and whether weight decay applies.</summary>
internal sealed record ParameterSlot(string LocalName, string GlobalName, Parameter Parameter, bool Decay);
