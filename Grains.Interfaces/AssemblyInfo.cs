// Grain interfaces and messages live here; the Client references this assembly only.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Cluster.Grains")]
