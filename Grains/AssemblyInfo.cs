// Grain implementations: they drive Kernels and implement Grains.Interfaces.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Cluster.Grains.Tests")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Cluster.Client.Tests")] // LossPagingTests seeds a job's state through its own JobStateWriter
