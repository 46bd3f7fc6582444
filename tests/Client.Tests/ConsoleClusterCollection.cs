namespace Cluster.Client.Tests;

/// <summary>One in-memory cluster shared by the command tests (starting one takes seconds on 2 cores).</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleClusterCollection : ICollectionFixture<ConsoleClusterFixture>
{
    public const string Name = "console cluster";
}
