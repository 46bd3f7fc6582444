using Cluster.Silo;

return args.Length > 0 && args[0] == "demo"
    ? await DemoCommand.RunAsync(args[1..])
    : await SiloCommand.RunAsync(args);
