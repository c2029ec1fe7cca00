using System.Text;
using AttentionLab.Explorer;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Tests.Generation;
using AttentionLab.Text;

namespace AttentionLab.Tests.Explorer;

/// <summary>
/// A real Explorer server on an ephemeral loopback port over two small models: "small" (random weights, 2 layers,
/// 4 heads, context 64, a character tokenizer) given with --model, and "runs/tiny" (the gpt2_tiny fixture, context
/// 16, no tokenizer) found under the runs folder. Shared by the API and browser tests of one collection.
/// </summary>
public sealed class ExplorerFixture : IAsyncLifetime
{
    public const string Alphabet = " !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n";

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "attnlab-explorer-tests-" + Guid.NewGuid().ToString("N")[..8]);
    public string SmallModel => Path.Combine(Root, "small");
    public ExplorerServer Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public Uri Address => Server.Address;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        var config = DecoderConfig.Tiny with { ContextLength = 64 };
        var model = new DecoderModel(config, training: false);
        Randomize(model, seed: 11);
        DecoderFolder.Save(model, SmallModel);
        Tokenizers.Save(CharTokenizer.FromCorpus(Alphabet), SmallModel);
        var runs = Path.Combine(Root, "runs");
        var tiny = Path.Combine(runs, "tiny");
        Directory.CreateDirectory(tiny);
        foreach (var f in new[] { DecoderFolder.ConfigFileName, DecoderFolder.WeightsFileName })
            File.Copy(Path.Combine(TinyGpt2.Directory, f), Path.Combine(tiny, f));
        Server = await ExplorerServer.StartAsync(new ExplorerOptions { Models = [SmallModel], RunsDirectory = runs, Port = 0, MaxRequestBodyBytes = 64 * 1024 });
        Http = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    /// <summary>Large random weights (as <see cref="TinyGpt2.Random"/>) so the maps have structure to see.</summary>
    private static void Randomize(DecoderModel model, int seed)
    {
        var rng = new Random(seed);
        var p = model.Parameters;
        void Rand(ParameterView v, float scale) { var s = p[v]; for (int i = 0; i < s.Length; i++) s[i] = (float)((rng.NextDouble() * 2 - 1) * scale); }
        var layout = model.Layout;
        Rand(layout.TokenEmbedding, 0.5f);
        Rand(layout.PositionEmbedding!, 0.5f);
        foreach (var b in layout.Blocks)
        {
            Rand(b.AttentionWeight, 0.5f); Rand(b.AttentionProjectionWeight, 0.2f);
            Rand(b.MlpWeight, 0.2f); Rand(b.MlpProjectionWeight, 0.1f);
        }
    }

    public async Task<(int Status, string Body)> Post(string path, string json)
    {
        using var r = await Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return ((int)r.StatusCode, await r.Content.ReadAsStringAsync());
    }
}

[CollectionDefinition("explorer")]
public sealed class ExplorerCollection : ICollectionFixture<ExplorerFixture> { }
