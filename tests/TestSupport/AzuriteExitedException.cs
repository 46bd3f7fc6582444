namespace Cluster.Grains.Tests;

/// <summary>Azurite's process ended before it accepted connections (a port taken in the meantime, a broken install).</summary>
public sealed class AzuriteExitedException(string message) : Exception(message);
