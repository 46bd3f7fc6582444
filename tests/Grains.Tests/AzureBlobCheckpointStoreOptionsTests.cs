using Azure.Storage.Blobs;
using Cluster.Grains.Checkpoints;

namespace Cluster.Grains.Tests;

/// <summary>Options of the Azure Blob checkpoint store: defaults and validation (no storage needed).</summary>
public sealed class AzureBlobCheckpointStoreOptionsTests
{
    [Fact]
    public void Defaults_use_the_checkpoints_container_and_an_API_version_Azurite_accepts()
    {
        var options = new AzureBlobCheckpointStoreOptions { ConnectionString = "UseDevelopmentStorage=true" };

        Assert.Equal("checkpoints", options.ContainerName);
        Assert.Equal(BlobClientOptions.ServiceVersion.V2026_06_06, options.ServiceVersion);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void An_account_URL_alone_is_enough()
    {
        var options = new AzureBlobCheckpointStoreOptions { AccountUrl = new Uri("https://account.blob.core.windows.net") };

        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Validate_lists_every_problem_at_once()
    {
        var options = new AzureBlobCheckpointStoreOptions { ContainerName = "Bad--Name-", ServiceVersion = (BlobClientOptions.ServiceVersion)9999 };

        var problems = options.Validate();

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("ConnectionString", StringComparison.Ordinal) && p.Contains("AccountUrl", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'Bad--Name-'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("ServiceVersion", StringComparison.Ordinal));
    }

    [Fact]
    public void A_relative_account_URL_is_a_problem()
    {
        var options = new AzureBlobCheckpointStoreOptions { AccountUrl = new Uri("account/blobs", UriKind.Relative) };

        Assert.Contains("AccountUrl", Assert.Single(options.Validate()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("checkpoints")]
    [InlineData("a-b-c")]
    [InlineData("0run-7")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0")] // 63
    public void Valid_container_names_pass(string name) =>
        Assert.Empty(new AzureBlobCheckpointStoreOptions { ConnectionString = "UseDevelopmentStorage=true", ContainerName = name }.Validate());

    [Theory]
    [InlineData("")]
    [InlineData("ab")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01")] // 64
    [InlineData("-abc")]
    [InlineData("abc-")]
    [InlineData("a--b")]
    [InlineData("Checkpoints")]
    [InlineData("check_points")]
    [InlineData("check.points")]
    public void Invalid_container_names_are_a_problem(string name)
    {
        var problem = Assert.Single(new AzureBlobCheckpointStoreOptions { ConnectionString = "UseDevelopmentStorage=true", ContainerName = name }.Validate());
        Assert.Contains("ContainerName", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_with_invalid_options_throws_naming_every_problem_without_connecting()
    {
        var e = Assert.Throws<ArgumentException>(() => AzureBlobCheckpointStore.Create(new AzureBlobCheckpointStoreOptions { ContainerName = "x" }));

        Assert.Contains("ConnectionString", e.Message, StringComparison.Ordinal);
        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
    }
}
