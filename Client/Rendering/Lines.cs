using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary>One-line results (an action's outcome) end with a line break, so the prompt or the next output starts on its own line.</summary>
internal static class Lines
{
    public static IRenderable Of(IRenderable line) => new Rows(line, Text.Empty);
}
