namespace Cluster.Kernels.Data;

/// <summary>A loaded corpus and the identity (size, SHA-256) of the bytes it was loaded from.</summary>
public sealed record IdentifiedTokenSource(ITokenSource Source, DataIdentity Identity);
