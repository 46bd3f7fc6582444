using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Interfaces.Silos;

/// <summary>
/// Reports the build of the silo it runs on. Key: <see cref="SiloBuildKeys.Of"/>(silo name); it is only ever activated
/// on that silo (a silo that is not an active member cannot answer).
/// </summary>
[Alias("cluster.ISiloBuildGrain")]
public interface ISiloBuildGrain : IGrainWithStringKey
{
    [Alias("GetBuild"), OperatorFacing(OperatorRole.Viewer)]
    Task<SiloBuild> GetBuild();
}
