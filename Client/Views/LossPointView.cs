namespace Cluster.Client.Views;

/// <summary>One step's loss (<c>job losses</c>): step n is the n-th completed step of the job's current trajectory.</summary>
internal sealed record LossPointView(long Step, double Loss);
