// Orleans clusters and silo processes are heavy on a 2-core machine: run this assembly's test classes one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
