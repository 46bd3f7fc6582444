namespace Cluster.Client.Views;

/// <summary>One named cluster as <c>config get-contexts</c> shows it; secrets (connection string, certificate password) never appear.</summary>
internal sealed record ContextView(string Name, bool Current, string Server, string? ClusterId, string? ServiceId, string? Membership, bool Tls, string? Certificate, double? ConnectTimeoutSeconds);
