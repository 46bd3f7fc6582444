using Cluster.Silo;

return DemoCommand.Run(args);
