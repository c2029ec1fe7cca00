using AttentionLab.Explorer;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Explorer;

/// <summary>
/// A real Explorer server on an ephemeral loopback port over two decoders given with --model: "gqa", the tiny random
/// Llama fixture (4 query heads sharing 2 key/value heads, no tokenizer: the pages take ids), and "mha", the gpt2_tiny
/// fixture (multi-head attention), for the head view's key/value grouping; and "bos", the Llama fixture with a
/// SentencePiece-style tokenizer.json whose config adds the bos token (<see cref="Text.TinyHfTokenizer"/>).
/// </summary>
public sealed class GqaExplorerFixture : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "attnlab-explorer-gqa-" + Guid.NewGuid().ToString("N")[..8]);
    public ExplorerServer Server { get; private set; } = null!;
    public Uri Address => Server.Address;

    public async Task InitializeAsync()
    {
        string gqa = Path.Combine(Root, "gqa"), mha = Path.Combine(Root, "mha"), bos = Path.Combine(Root, "bos");
        Copy(Path.Combine(Fixtures.Directory, "llama", "llama_tiny"), gqa);
        Copy(TinyGpt2.Directory, mha);
        Copy(Path.Combine(Fixtures.Directory, "llama", "llama_tiny"), bos);
        Text.TinyHfTokenizer.WriteSentencePiece(bos);
        Server = await ExplorerServer.StartAsync(new ExplorerOptions { Models = [gqa, mha, bos], RunsDirectory = null, Port = 0, MaxRequestBodyBytes = 64 * 1024 });
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in new[] { "config.json", "model.safetensors" }) File.Copy(Path.Combine(from, f), Path.Combine(to, f));
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
