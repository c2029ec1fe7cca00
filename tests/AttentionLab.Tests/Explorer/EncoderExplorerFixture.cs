using System.Text;
using AttentionLab.Explorer;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Explorer;

/// <summary>
/// A real Explorer server on an ephemeral loopback port over one model of every kind, each built in code with small
/// random weights and saved with the library's writers (no training, so it starts in well under a second):
/// "reverse" (a seq2seq model, given with --model), and under the runs folder "runs/bert", "runs/vit" and
/// "runs/gpt2" (the gpt2_tiny fixture).
/// </summary>
public sealed class EncoderExplorerFixture : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "attnlab-explorer-encoders-" + Guid.NewGuid().ToString("N")[..8]);
    public string Seq2Seq => Path.Combine(Root, "reverse");
    public string Runs => Path.Combine(Root, "runs");
    public string Bert => Path.Combine(Runs, "bert");
    public string Vit => Path.Combine(Runs, "vit");
    public ExplorerServer Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public Uri Address => Server.Address;

    public static Seq2SeqConfig Seq2SeqConfig { get; } = new()
    {
        Task = "reverse", MaxSourceLength = 10, MaxTargetLength = 10, Channels = 16, Heads = 2, EncoderLayers = 2, DecoderLayers = 1, Seed = 5,
    };

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Runs);
        new Seq2SeqModel(Seq2SeqConfig).Save(Seq2Seq);
        new BertModel(new BertConfig { Characters = ExplorerFixture.Alphabet, Channels = 16, Heads = 2, Layers = 2, MaxLength = 48, Seed = 3 }).Save(Bert);
        new VisionTransformer(new VitConfig { ImageSize = 16, PatchSize = 4, Channels = 16, Heads = 2, Layers = 1, Seed = 7 }).Save(Vit);
        var gpt2 = Path.Combine(Runs, "gpt2");
        Directory.CreateDirectory(gpt2);
        foreach (var f in new[] { DecoderFolder.ConfigFileName, DecoderFolder.WeightsFileName })
            File.Copy(Path.Combine(TinyGpt2.Directory, f), Path.Combine(gpt2, f));
        Server = await ExplorerServer.StartAsync(new ExplorerOptions { Models = [Seq2Seq], RunsDirectory = Runs, Port = 0, MaxRequestBodyBytes = 64 * 1024 });
        Http = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    public async Task<(int Status, string Body)> Post(string path, string json)
    {
        using var r = await Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return ((int)r.StatusCode, await r.Content.ReadAsStringAsync());
    }
}

[CollectionDefinition("explorer-encoders")]
public sealed class EncoderExplorerCollection : ICollectionFixture<EncoderExplorerFixture> { }
