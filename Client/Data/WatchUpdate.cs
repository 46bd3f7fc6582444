using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Data;

/// <summary>One thing <c>job watch</c> learned: exactly one of the three is set.</summary>
internal sealed record WatchUpdate(ProgressView? Progress = null, EventView? Event = null, JobStatus? Status = null);
