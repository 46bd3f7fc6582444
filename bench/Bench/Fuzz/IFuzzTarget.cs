namespace Cluster.Bench.Fuzz;

/// <summary>
/// One kind of hostile input. <see cref="Run"/> builds an input from <paramref name="random"/>, feeds it to product
/// code, and returns whether it was accepted (true) or refused with the one clear error its reader promises (false);
/// any other exception escapes and counts as a crash.
/// </summary>
internal interface IFuzzTarget
{
    string Name { get; }

    bool Run(Random random);
}
