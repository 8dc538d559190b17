// Publicizer: writes copies of the given assemblies with every type, method and field made public.
// The copies are handed to the C# compiler only (see ../Publicize.targets); at run time the real,
// strong-name-signed NuGet assemblies are loaded unchanged, and [IgnoresAccessChecksTo] in the
// consuming assembly lets CoreCLR allow the access.
//
// usage: Publicizer <outDir> <input.dll> [<input.dll> ...]
using Mono.Cecil;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Publicizer <outDir> <input.dll> [<input.dll> ...]");
    return 2;
}

var outDir = args[0];
Directory.CreateDirectory(outDir);

foreach (var input in args.Skip(1))
{
    var resolver = new DefaultAssemblyResolver();
    resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(input)) ?? ".");
    using var assembly = AssemblyDefinition.ReadAssembly(input,
        new ReaderParameters { AssemblyResolver = resolver, ReadSymbols = false, InMemory = true });
    int types = 0, methods = 0, fields = 0;
    foreach (var module in assembly.Modules)
    {
        foreach (var type in module.GetTypes())
        {
            if (type.IsNested)
            {
                if (!type.IsNestedPublic) { type.IsNestedPublic = true; types++; }
            }
            else if (!type.IsPublic)
            {
                type.IsPublic = true;
                types++;
            }

            foreach (var method in type.Methods)
            {
                if (!method.IsPublic) { method.IsPublic = true; methods++; }
            }

            // A field named like an event or property of its type (a field-like event's backing
            // field) would make C# report an ambiguity, so it stays as it is.
            var memberNames = new HashSet<string>(type.Events.Select(e => e.Name).Concat(type.Properties.Select(p => p.Name)));
            foreach (var field in type.Fields)
            {
                if (!field.IsPublic && !memberNames.Contains(field.Name)) { field.IsPublic = true; fields++; }
            }
        }
    }

    var output = Path.Combine(outDir, Path.GetFileName(input));
    assembly.Write(output); // not re-signed: a compile-time reference needs no signature
    Console.WriteLine($"Publicizer: {Path.GetFileName(input)}: {types} types, {methods} methods, {fields} fields made public -> {output}");
}

return 0;
