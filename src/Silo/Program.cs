using MtActors.Silo.Hosting;

// `dotnet run --project src/Silo`                       runs a silo (see README.md for the configuration)
// `dotnet run --project src/Silo -- migrate --connection "Host=...;..."`  only applies the schema to that database
return await SiloCommands.RunAsync(args);
