namespace Cluster.Grains.Tests;

/// <summary>Test classes marked <c>[Collection("azurite")]</c> share one Azurite for the whole run.</summary>
[CollectionDefinition("azurite")]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>;
