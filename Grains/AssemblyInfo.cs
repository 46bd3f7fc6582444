// Grain implementations: they drive Kernels and implement Grains.Interfaces.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Cluster.Grains.Tests")]
