using System.Reflection;
using System.Runtime.Loader;
using AttentionLab.Hooks;
using AttentionLab.IO;
using AttentionLab.Tests.Generation;
using AttentionLab.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace AttentionLab.Tests.Docs;

/// <summary>The README's library example, taken from the README as it is, compiled with Roslyn against the library
/// and run on the tiny fixture model with a character tokenizer: it must build, run, and print what the library
/// computes.</summary>
public class ReadmeExampleTests
{
    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AttentionLab.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("the repository root (AttentionLab.slnx) is not above the test binaries");
    }

    private static string Example()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        int section = readme.IndexOf("## Use it as a library", StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no '## Use it as a library' section");
        int start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal) + "```csharp\n".Length;
        int end = readme.IndexOf("```", start, StringComparison.Ordinal);
        return readme[start..end];
    }

    [Fact]
    public void The_library_example_compiles_and_runs()
    {
        string code = Example();
        Assert.InRange(code.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, 5, 16);   // about ten lines

        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(p => MetadataReference.CreateFromFile(p)).ToList();
        references.Add(MetadataReference.CreateFromFile(typeof(DecoderFolder).Assembly.Location));
        // what `dotnet new console` gives a user's program: the SDK's implicit global usings
        const string implicitUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
            "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("ReadmeExample",
            [CSharpSyntaxTree.ParseText(code, parse), CSharpSyntaxTree.ParseText(implicitUsings, parse)], references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));

        // a model folder: the tiny fixture plus a character tokenizer of tiny Shakespeare's 65 characters
        var dir = Directory.CreateTempSubdirectory("attnlab-readme-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(TinyGpt2.Directory)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            var corpus = File.ReadAllText(Path.Combine(RepositoryRoot(), "data", "tinyshakespeare.txt"));
            var tokenizer = CharTokenizer.FromCorpus(corpus);
            Tokenizers.Save(tokenizer, dir);

            image.Position = 0;
            var context = new AssemblyLoadContext("readme", isCollectible: true);
            var assembly = context.LoadFromStream(image);
            var output = new StringWriter();
            var previous = Console.Out;
            Console.SetOut(output);
            try { assembly.EntryPoint!.Invoke(null, [new[] { dir }]); }
            finally { Console.SetOut(previous); context.Unload(); }

            // the same numbers, computed here
            var model = DecoderFolder.Load(dir);
            Assert.False(model.IsTraining);
            var ids = tokenizer.Encode("To be, or not");
            var (loss, cache) = model.RunWithCache(ids, n => n == "blocks.0.attn.hook_pattern");
            float ablated = model.RunWithHooks(ids, new HookSet().ZeroHead(0, 1));
            var text = output.ToString();
            Assert.Contains(FormattableString.Invariant($"token 4 weight {cache["blocks.0.attn.hook_pattern"][0, 1, 5, 4]:0.000}"), text);
            Assert.Contains(FormattableString.Invariant($"loss {loss:0.0000}, with head 0.1 zeroed {ablated:0.0000}"), text);
            Assert.NotEqual(loss, ablated);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
