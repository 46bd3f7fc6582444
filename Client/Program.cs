// The operator console connects to a cluster; the control plane it drives is being built (see the README).
Console.Error.WriteLine("Cluster.Client: the operator console is not available yet — the Orleans control plane lands first.");
return 2;
