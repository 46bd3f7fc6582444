using Cluster.Grains.Hosting;

namespace Cluster.Grains.Jobs;

/// <summary>
/// The jobs whose coordinator (job grain activation) lives on this silo: what a silo that shuts down asks to hand over
/// (<c>CoordinatorHandOverOnShutdown</c>). An activation adds its job when it activates and removes it when it deactivates.
/// </summary>
internal sealed class LocalCoordinators : LocalGrainKeys;
