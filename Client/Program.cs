using Cluster.Client;

return await Startup.RunAsync(args);
