using System.Text.Json;
using System.Text.Json.Nodes;
using AttentionLab.Attention;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Tests.Cli;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.Training;

/// <summary>
/// <c>attnlab train --init-from DIR</c> on a Hugging Face folder whose tokenizer is a tokenizer.json: a tiny random
/// Llama folder with the SentencePiece-style Llama 2 tokenizer fixture (bos, byte fallback) and a tiny random Qwen2
/// folder with the byte-level Qwen2 one (NFC), each of the fixtures' config shapes with the vocabulary widened to the
/// tokenizer's. The data is tokenized by the folder's tokenizer (step 1's loss is the folder's own on the first batch
/// of those ids), the loss falls, the run saves tokenizer.json, tokenizer_config.json and generation_config.json byte
/// for byte beside its weights, reloads with bit-identical logits, generates with the same tokenizer (the bos first),
/// and resumes.
/// </summary>
public sealed class HfFineTuneTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("attnlab-hf-finetune-").FullName;
    private readonly string _data;

    public HfFineTuneTests()
    {
        _data = Path.Combine(_root, "data.txt");
        File.WriteAllText(_data, string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. Hello, world! 42\n", 120)));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A tiny random folder of <paramref name="fixture"/>'s config (context 64, the tokenizer's vocabulary)
    /// with <paramref name="tokenizerKind"/>'s tokenizer.json + tokenizer_config.json and a generation_config.json.</summary>
    private string MakeFolder(string fixture, string tokenizerKind)
    {
        var tokenizer = HfTokenizer.Load(Path.Combine(Fixtures.Directory, "hf_tokenizers", tokenizerKind));
        var config = LlamaFolder.ReadConfig(Path.Combine(Fixtures.Directory, "llama", fixture)) with
        {
            VocabSize = tokenizer.VocabSize, ContextLength = 64, Attention = AttentionKernels.DefaultName,
        };
        var model = new DecoderModel(config);
        model.InitializeWeights(7);
        var dir = Path.Combine(_root, fixture + "-" + tokenizerKind);
        LlamaFolder.Save(model, dir);
        tokenizer.Save(dir);
        File.WriteAllText(Path.Combine(dir, GenerationConfig.FileName), $$"""{"eos_token_id": [{{tokenizer.EosTokenId}}], "do_sample": false}""");
        return dir;
    }

    [Theory]
    [InlineData("llama_tiny", "llama2", "llama")]
    [InlineData("qwen2_tiny_bf16", "qwen2", "qwen2")]
    [InlineData("qwen3_tiny", "qwen2", "qwen3")]
    [InlineData("mistral_tiny", "mistral", "mistral")]
    public void FineTunesWithTheFoldersTokenizerSavesItAndReloads(string fixture, string tokenizerKind, string modelType)
    {
        string source = MakeFolder(fixture, tokenizerKind), outDir = Path.Combine(_root, "out-" + fixture);
        var tokenizer = HfTokenizer.Load(source);
        var options = new TrainingOptions { Steps = 6, BatchSize = 2, LearningRate = 3e-3, WarmupSteps = 1, EvalEvery = 3, EvalBatches = 1 };
        float[] inMemory;
        int[] x;
        using (var run = DecoderTrainingRun.FineTune(source, _data, tokenizerName: null, options, outDir, attention: null))
        {
            // the data is the folder's tokenizer's ids, one stream without a bos token
            Assert.Same(typeof(HfTokenizer), run.Corpus.Tokenizer.GetType());
            Assert.Equal(tokenizer.Encode(File.ReadAllText(_data)), run.Corpus.Tokens);
            int t = run.Model.Config.ContextLength;
            var (inputs, targets) = (new int[2 * t], new int[2 * t]);
            new Batches(run.Corpus.Train, 2, t, options.Seed).Next(inputs, targets);
            float folderLoss = new DecoderLanguageModel(DecoderFolder.Load(source, training: true)).Forward(inputs, 2, t, targets);

            var losses = new List<double>();
            run.Run(new Progress(r => losses.Add(r.Loss)), CancellationToken.None);
            Assert.Equal(6, losses.Count);
            Assert.Equal(folderLoss, losses[0], 1e-5);           // step 1 ran the folder's weights on its tokenizer's ids
            Assert.True(losses[^1] < losses[0], $"loss did not fall: {string.Join(", ", losses)}");

            x = tokenizer.EncodeForModel("The lazy fox");
            run.Model.Forward(x, 1, x.Length);
            inMemory = run.Model.Logits.ToArray();
        }

        // a Hugging Face folder of the source's type, with the source's tokenizer files byte for byte
        Assert.Equal(modelType, HfTransformerConfig.Read(outDir).ModelType);
        foreach (var f in new[] { HfTokenizer.FileName, HfTokenizer.ConfigFileName, GenerationConfig.FileName })
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, f)), File.ReadAllBytes(Path.Combine(outDir, f)));
        Assert.False(File.Exists(Path.Combine(outDir, Tokenizers.FileName)));
        var info = ModelFolderInfo.Read(outDir);
        Assert.Equal((ModelFolderInfo.Llama, ModelTokenizer.HuggingFace), (info.Kind, info.Tokenizer));

        // reloads bit-identically, and generate reads its text with the same tokenizer
        var reloaded = DecoderFolder.Load(outDir);
        reloaded.Forward(x, 1, x.Length);
        Assert.Equal(inMemory, reloaded.Logits.ToArray());
        using (var doc = JsonDocument.Parse(CliHarness.Ok("generate", "--model", outDir, "--prompt", "The lazy fox", "--max-tokens", "3", "--temperature", "0", "--ignore-eos", "--json")))
            Assert.Equal(x, doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).Take(x.Length));

        // resumes with the saved tokenizer (the data's fingerprint would differ under any other)
        CliHarness.Ok("train", "--out", outDir, "--resume", "--steps", "8", "--json");
        Assert.Equal(8, TrainingCheckpoint.LoadState(outDir).State.Step);
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, GenerationConfig.FileName)), File.ReadAllBytes(Path.Combine(outDir, GenerationConfig.FileName)));
        Assert.False(File.Exists(Path.Combine(outDir, Tokenizers.FileName)));
    }

    [Fact]
    public void TheCommandFineTunesSaysTheMemoryAndReplacesAnotherTokenizersRun()
    {
        string source = MakeFolder("llama_tiny", "llama2"), outDir = Path.Combine(_root, "cli");
        // an earlier char-tokenizer run in --out, replaced with --force: its attnlab_tokenizer.json must not outlive it
        CliHarness.Ok("train", "--init-from", Path.Combine(Fixtures.Directory, "llama", "llama_tiny"), "--data", _data, "--tokenizer", "char",
            "--steps", "1", "--batch", "1", "--eval-every", "1", "--eval-batches", "1", "--out", outDir, "--json");
        Assert.True(File.Exists(Path.Combine(outDir, Tokenizers.FileName)));
        var text = CliHarness.Ok("train", "--init-from", source, "--data", _data, "--steps", "2", "--batch", "2", "--eval-every", "2",
            "--eval-batches", "1", "--out", outDir, "--force");
        Assert.Contains($"tokenizer.json tokens (vocabulary {HfTokenizer.Load(source).VocabSize})", text);
        Assert.Contains("4 float32 copies", text);
        Assert.Contains($"saved {outDir}  (model, tokenizer.json, tokenizer_config.json", text);
        Assert.False(File.Exists(Path.Combine(outDir, Tokenizers.FileName)));
        Assert.Equal(ModelTokenizer.HuggingFace, ModelFolderInfo.Read(outDir).Tokenizer);
        // a tokenizer named on the command line that is not the folder's is refused in one line
        var r = CliHarness.Run("train", "--init-from", source, "--data", _data, "--tokenizer", "char", "--steps", "1", "--out", Path.Combine(_root, "refused"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("reads tokenizer.json tokens; --tokenizer char", Assert.Single(r.StderrLines));
    }

    private sealed class Progress(Action<StepReport> report) : IProgress<StepReport>
    {
        public void Report(StepReport value) => report(value);
    }
}
