using System.Reflection;

namespace Cluster.Grains.Tests;

/// <summary>
/// A silo status oracle that knows only this silo's own status (<see cref="ISiloStatusOracle.CurrentStatus"/>), settable;
/// any other member throws. For code that asks nothing else, such as <c>ActivationLoss.SiloLeaving</c>.
/// </summary>
public class LocalSiloStatus : DispatchProxy
{
    private SiloStatus _status;

    public static ISiloStatusOracle Of(SiloStatus status)
    {
        var oracle = Create<ISiloStatusOracle, LocalSiloStatus>();
        ((LocalSiloStatus)(object)oracle)._status = status;
        return oracle;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
        targetMethod?.Name == "get_" + nameof(ISiloStatusOracle.CurrentStatus)
            ? _status
            : throw new NotSupportedException($"{nameof(LocalSiloStatus)} knows only this silo's status, not {targetMethod?.Name}.");
}
