using System.Text.RegularExpressions;

namespace Cluster.Grains.Jobs;

/// <summary>
/// A reason's text with its numbers blanked ("the scheduler started # s ago; …"): two reasons of one shape say the same
/// thing with newer figures, so the job's status shows the newer one but its history records it only once.
/// </summary>
internal static partial class ReasonShape
{
    public static string Of(string reason) => Numbers().Replace(reason, "#");

    [GeneratedRegex(@"\d+(\.\d+)?")]
    private static partial Regex Numbers();
}
