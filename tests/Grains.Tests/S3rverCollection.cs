namespace Cluster.Grains.Tests;

/// <summary>Test classes marked <c>[Collection("s3rver")]</c> share one s3rver for the whole run.</summary>
[CollectionDefinition("s3rver")]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>;
