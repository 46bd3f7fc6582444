using System.CommandLine;

namespace Cluster.Client.Commands;

/// <summary><c>--reason TEXT</c>: why an operator acts; the cluster records it on the action's event (and on a cordoned or drained node).</summary>
internal static class ReasonOption
{
    public static Option<string?> Create(string description, bool required = false) => new("--reason")
    {
        Description = description,
        Required = required,
    };
}
