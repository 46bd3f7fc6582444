namespace Cluster.Kernels.Data;

/// <summary>A data file a policy allowed: the source as given, the real path it resolved to (no links, no '..') and its size.</summary>
public sealed record DataFile(string Source, string RealPath, long Bytes);
