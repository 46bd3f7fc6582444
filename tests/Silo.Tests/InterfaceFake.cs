using System.Reflection;

namespace Cluster.Silo.Tests;

/// <summary>
/// An interface implemented by handlers named by member (a property by its getter, <c>get_Name</c>): a stand-in for a
/// grain reference or a host service a unit test needs only a corner of. Any other member throws, naming itself.
/// </summary>
public class InterfaceFake : DispatchProxy
{
    private Dictionary<string, Func<object?[], object?>> _handlers = [];

    public static T Of<T>(params (string Member, Func<object?[], object?> Handler)[] handlers) where T : class
    {
        var fake = DispatchProxy.Create<T, InterfaceFake>();
        ((InterfaceFake)(object)fake)._handlers = handlers.ToDictionary(h => h.Member, h => h.Handler, StringComparer.Ordinal);
        return fake;
    }

    /// <summary>A generic method's handler may be named with its type arguments (<c>GetGrain&lt;ISchedulerGrain&gt;</c>), found before one by name alone.</summary>
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        string constructed = targetMethod.IsGenericMethod ? $"{targetMethod.Name}<{string.Join(",", targetMethod.GetGenericArguments().Select(t => t.Name))}>" : targetMethod.Name;
        return _handlers.TryGetValue(constructed, out var handler) || _handlers.TryGetValue(targetMethod.Name, out handler)
            ? handler(args ?? [])
            : throw new NotSupportedException($"{targetMethod.DeclaringType?.Name}.{constructed} is not part of this test's fake.");
    }
}
