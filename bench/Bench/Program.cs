using Cluster.Bench;

return await BenchProgram.RunAsync(args);
