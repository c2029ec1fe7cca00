using System.Text.Json.Nodes;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Tests.Cli;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.Training;

/// <summary><c>attnlab train --init-from DIR</c>: a run that starts from a saved folder's weights (GPT-2 and
/// Llama-family Hugging Face folders), through the same trainer, saved in the folder's own layout, reloaded and
/// resumed; options that contradict the folder refused in one line.</summary>
public sealed class FineTuneTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "attnlab-finetune-" + Guid.NewGuid().ToString("N"));
    private readonly string _data;

    public FineTuneTests()
    {
        Directory.CreateDirectory(_root);
        _data = Path.Combine(_root, "data.txt");
        // 17 distinct characters: a char vocabulary that fits the fixtures' 40 and 65 ids
        File.WriteAllText(_data, string.Concat(Enumerable.Repeat("the cat sat on the mat. a dog ran to the log and the cat ran too! ", 60)));
    }

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true); }

    private static string FixtureFolder(string name) =>
        name == "gpt2_tiny" ? Path.Combine(Fixtures.Directory, name) : Path.Combine(Fixtures.Directory, "llama", name);

    [Theory]
    [InlineData("llama_tiny", "llama")]
    [InlineData("qwen3_tiny", "llama")]
    [InlineData("gpt2_tiny", "gpt2")]
    public void StartsFromTheFoldersWeightsSavesItsLayoutAndResumes(string name, string kind)
    {
        string source = FixtureFolder(name), outDir = Path.Combine(_root, name);
        var original = DecoderFolder.Load(source, training: false);
        string[] train = ["train", "--init-from", source, "--data", _data, "--tokenizer", "char", "--steps", "4", "--batch", "2",
            "--lr", "3e-3", "--eval-every", "4", "--eval-batches", "1", "--out", outDir, "--json"];
        var lines = CliHarness.Ok(train).Trim().Split('\n').Select(l => JsonNode.Parse(l)!).ToArray();
        var losses = lines.Where(l => l["loss"] is not null).Select(l => (double)l["loss"]!).ToArray();
        Assert.Equal(4, losses.Length);

        // the first step's loss is the folder's own loss on the trainer's first batch: the run started from its weights
        var options = new TrainingOptions { BatchSize = 2 };
        var corpus = Corpus.Load(_data, "char");
        int t = original.Config.ContextLength;
        var (inputs, targets) = (new int[2 * t], new int[2 * t]);
        new Batches(corpus.Train, 2, t, options.Seed).Next(inputs, targets);
        float folderLoss = new DecoderLanguageModel(DecoderFolder.Load(source, training: true)).Forward(inputs, 2, t, targets);
        Assert.Equal(folderLoss, losses[0], 1e-5);
        Assert.True(losses[^1] < losses[0], $"loss did not fall: {string.Join(", ", losses)}");

        // saved in the folder's layout (the same model_type), reloads with trained weights, resumes
        var info = ModelFolderInfo.Read(outDir);
        Assert.Equal((kind, ModelTokenizer.Saved), (info.Kind, info.Tokenizer));
        if (kind == "llama") Assert.Equal(HfTransformerConfig.Read(source).ModelType, HfTransformerConfig.Read(outDir).ModelType);
        var trained = DecoderFolder.Load(outDir);
        Assert.Equal(original.Config with { Attention = trained.Config.Attention }, trained.Config);
        Assert.False(original.Parameters.Data.AsSpan().SequenceEqual(trained.Parameters.Data));
        CliHarness.Ok("train", "--out", outDir, "--resume", "--steps", "5", "--json");
        Assert.Equal(5, JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "training_state.json")))!["step"]!.GetValue<int>());
    }

    [Fact]
    public void RefusesAFolderWhoseTrainingCopiesDoNotFitBeforeReadingIt()
    {
        // SmolLM2-135M: 134,515,008 parameters × 4 copies × 4 bytes = 2.0 GiB, + 2 × 49,152·576 floats + 256 MiB
        var smol = LlamaFolder.ToConfig(HfTransformerPresets.SmolLM2_135M);
        DecoderTrainingRun.EnsureFineTuningFits("smol", smol, 3L << 30);
        var e = Assert.Throws<ModelTooLargeException>(() => DecoderTrainingRun.EnsureFineTuningFits("smol", smol, 2L << 30));
        Assert.Contains("134,515,008 parameters × 4 float32 copies", e.Message);
        Assert.Contains("2.00 GiB", e.Message);                             // 16 · 134,515,008 B

        // through the command: a config.json of Llama 3 8B's shape beside tiny weights is refused in one line before they
        // are read (here by the one float[] arena, which no 8B model fits on any machine)
        var big = Path.Combine(_root, "big");
        Directory.CreateDirectory(big);
        var source = FixtureFolder("llama_tiny");
        File.Copy(Path.Combine(source, "model.safetensors"), Path.Combine(big, "model.safetensors"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "config.json")))!.AsObject();
        (config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"], config["num_attention_heads"]) = (4096, 32, 14336, 32);
        (config["num_key_value_heads"], config["vocab_size"]) = (8, 128256);
        File.WriteAllText(Path.Combine(big, "config.json"), config.ToJsonString());
        var r = CliHarness.Run("train", "--init-from", big, "--data", _data, "--tokenizer", "char", "--steps", "1", "--out", Path.Combine(_root, "big-out"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("8,030,261,248 parameters", Assert.Single(r.StderrLines));
        Assert.False(Directory.Exists(Path.Combine(_root, "big-out")));
    }

    [Fact]
    public void RefusesOptionsThatContradictTheFolderInOneLine()
    {
        string llama = FixtureFolder("llama_tiny"), gpt2 = FixtureFolder("gpt2_tiny"), outDir = Path.Combine(_root, "refused");
        foreach (var (args, says) in new (string[], string)[]
                 {
                     (["--init-from", llama, "--layers", "3"], "--layers 3 does not match"),
                     (["--init-from", llama, "--heads", "8"], "(4 heads)"),
                     (["--init-from", llama, "--kv-heads", "1"], "(2 key/value heads)"),
                     (["--init-from", llama, "--arch", "gpt2"], "--arch gpt2 does not match"),
                     (["--init-from", gpt2, "--arch", "llama"], "a GPT-2 model"),
                     (["--init-from", llama, "--preset", "char"], "--preset char"),
                     (["--init-from", llama], "has no tokenizer"),
                     (["--init-from", llama, "--resume"], "--init-from"),
                     (["--init-from", Path.Combine(_root, "nope")], "does not exist"),
                 })
        {
            var r = CliHarness.Run(["train", .. args, "--data", _data, "--steps", "1", "--out", outDir]);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(says, Assert.Single(r.StderrLines));
            Assert.False(Directory.Exists(outDir), "a refused run left its --out behind");
        }
        // the char vocabulary of a richer text does not fit the 40 ids of the Llama fixture
        var rich = Path.Combine(_root, "rich.txt");
        File.WriteAllText(rich, string.Concat(Enumerable.Repeat("ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789. ", 30)));
        var tooMany = CliHarness.Run("train", "--init-from", llama, "--data", rich, "--tokenizer", "char", "--steps", "1", "--out", outDir);
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("only 40", Assert.Single(tooMany.StderrLines));
        Assert.False(Directory.Exists(outDir));
    }
}
