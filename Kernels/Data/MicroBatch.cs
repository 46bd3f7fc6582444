namespace Cluster.Kernels.Data;

/// <summary>Inputs and next-token targets of one micro-batch, row-major [Rows, Columns] int64 token ids.</summary>
public sealed record MicroBatch(long[] Inputs, long[] Targets, int Rows, int Columns);
