using System.Text;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Diagnostics;

/// <summary>
/// Every file reader of the library as a <see cref="FuzzTarget"/>, seeded with real files written by the library
/// itself (a tiny GPT-2 directory, tokenizer files, a training state, a corpus). The readers work on files in
/// <see cref="WorkDirectory"/>, which <see cref="Dispose"/> deletes.
/// </summary>
public sealed class ReaderFuzzTargets : IDisposable
{
    public string WorkDirectory { get; }
    public IReadOnlyList<FuzzTarget> All { get; }

    public ReaderFuzzTargets()
    {
        // in memory where the system offers it (/dev/shm): the cases are many small files
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        WorkDirectory = Path.Combine(root, $"attnlab-fuzz-{Guid.NewGuid():N}");
        var seeds = Path.Combine(WorkDirectory, "seeds");
        Directory.CreateDirectory(seeds);

        // a tiny model directory: config.json + model.safetensors, as save_pretrained writes them
        var config = DecoderConfig.Tiny with { Layers = 1, Channels = 8, Heads = 2, ContextLength = 4, VocabSize = 11 };
        var model = new DecoderModel(config);
        model.InitializeWeights(1);
        var modelDir = Path.Combine(seeds, "model");
        DecoderFolder.Save(model, modelDir);
        var configBytes = File.ReadAllBytes(Path.Combine(modelDir, DecoderFolder.ConfigFileName));
        var weightBytes = File.ReadAllBytes(Path.Combine(modelDir, DecoderFolder.WeightsFileName));
        var withOurKeys = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(configBytes).Replace("\"model_type\"", "\"attnlab_attention\": \"naive\", \"attnlab_causal\": true, \"model_type\"", StringComparison.Ordinal));
        var smallSafetensors = new MemoryStream();
        SafeTensors.Write(smallSafetensors, [("a", [2, 2], new float[] { 1, -2, 3.5f, 0 }), ("b", [3], new float[] { 0.25f, 1e-3f, -7 })],
            new Dictionary<string, string> { ["format"] = "pt", ["step"] = "3" });

        // tokenizers, a training state and a corpus
        var text = "First Citizen:\nBefore we proceed any further, hear me speak.\n\tAll: Speak, speak. ½ é 🙂\n";
        var charTokenizer = CharTokenizer.FromCorpus(text);
        var tokenizerSeeds = new[] { Encoding.UTF8.GetBytes(Tokenizers.ToJson(charTokenizer)), Encoding.UTF8.GetBytes(Tokenizers.ToJson(new Gpt2Tokenizer())) };
        var stateDir = Path.Combine(seeds, "state");
        var optimizer = new AdamW(model.Parameters.Data.Length);
        var state = new TrainingState { Step = 3, SamplerState = 12345678901234567890UL, Seconds = 1.5, Tokens = 96 };
        state.TrainLosses.AddRange([new LossPoint(0, 2.4), new LossPoint(1, 2.3), new LossPoint(2, 2.2)]);
        state.ValidationLosses.Add(new LossPoint(3, 2.25));
        TrainingCheckpoint.Save(stateDir, _ => { }, charTokenizer, new TrainingCheckpoint.RunInfo("data.txt", new TrainingOptions { Steps = 10 }, DecoderFolder.ConfigJson(config), "8:00000000000000ff"),
            state, optimizer, "seed");
        var stateBytes = File.ReadAllBytes(Path.Combine(stateDir, TrainingCheckpoint.StateFile));

        string Slot(string name)
        {
            var dir = Path.Combine(WorkDirectory, name);
            Directory.CreateDirectory(dir);
            return dir;
        }
        var safetensorsDir = Slot("safetensors");
        var configDir = Slot("config");
        var loadDir = Slot("load");
        File.WriteAllBytes(Path.Combine(loadDir, DecoderFolder.ConfigFileName), configBytes);
        var tokenizerDir = Slot("tokenizer");
        // a sharded checkpoint (index + 3 shards) of the same tensors, as save_pretrained writes one with a small max_shard_size
        var shardedDir = Slot("sharded");
        var (stored, _) = SafeTensors.Read(new MemoryStream(weightBytes));
        CheckpointFiles.Write(shardedDir, [.. stored.Values.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)t.Data))], maxShardBytes: 1200);
        var indexBytes = File.ReadAllBytes(Path.Combine(shardedDir, CheckpointFiles.IndexFile));
        var shardFiles = Directory.GetFiles(shardedDir, "model-*.safetensors").Order(StringComparer.Ordinal).ToArray();
        var middleShard = shardFiles[shardFiles.Length / 2];
        var middleShardBytes = File.ReadAllBytes(middleShard);
        // Hugging Face tokenizer.json files of both kinds, small enough to mutate quickly
        var hfTokenizerDir = Slot("hf-tokenizer");
        byte[][] hfTokenizerSeeds = [Encoding.UTF8.GetBytes(HfTokenizerSeeds.ByteLevel()), Encoding.UTF8.GetBytes(HfTokenizerSeeds.SentencePiece())];
        var hfConfigBytes = Encoding.UTF8.GetBytes("{\"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\"}, \"add_bos_token\": true}");
        void ReadCheckpoint()
        {
            using var files = CheckpointFiles.Open(shardedDir);
            foreach (var name in files.Names) files.Read(name);
        }
        var stateSlot = Slot("state");
        var corpusDir = Slot("corpus");

        All =
        [
            new FuzzTarget("safetensors", [weightBytes, smallSafetensors.ToArray()], bytes =>
            {
                var path = Path.Combine(safetensorsDir, "x.safetensors");
                File.WriteAllBytes(path, bytes);
                SafeTensors.Read(path);
            }, JsonAware: true, FixSafetensorsLength: true),
            new FuzzTarget("model directory (model.safetensors)", [weightBytes], bytes =>
            {
                File.WriteAllBytes(Path.Combine(loadDir, DecoderFolder.WeightsFileName), bytes);
                DecoderFolder.Load(loadDir);
            }, JsonAware: true, FixSafetensorsLength: true),
            new FuzzTarget("config.json", [configBytes, withOurKeys], bytes =>
            {
                File.WriteAllBytes(Path.Combine(configDir, DecoderFolder.ConfigFileName), bytes);
                DecoderFolder.ReadConfig(configDir);
            }),
            new FuzzTarget(Tokenizers.FileName, tokenizerSeeds, bytes =>
            {
                File.WriteAllBytes(Path.Combine(tokenizerDir, Tokenizers.FileName), bytes);
                Tokenizers.Load(tokenizerDir);
            }),
            new FuzzTarget($"sharded index ({CheckpointFiles.IndexFile})", [indexBytes], bytes =>
            {
                File.WriteAllBytes(Path.Combine(shardedDir, CheckpointFiles.IndexFile), bytes);
                File.WriteAllBytes(middleShard, middleShardBytes);
                ReadCheckpoint();
            }),
            new FuzzTarget("sharded checkpoint (one shard)", [middleShardBytes], bytes =>
            {
                File.WriteAllBytes(Path.Combine(shardedDir, CheckpointFiles.IndexFile), indexBytes);
                File.WriteAllBytes(middleShard, bytes);
                ReadCheckpoint();
            }, JsonAware: true, FixSafetensorsLength: true),
            new FuzzTarget($"{HfTokenizer.FileName} (Hugging Face)", hfTokenizerSeeds, bytes =>
            {
                File.WriteAllBytes(Path.Combine(hfTokenizerDir, HfTokenizer.FileName), bytes);
                File.WriteAllBytes(Path.Combine(hfTokenizerDir, HfTokenizer.ConfigFileName), hfConfigBytes);
                var t = HfTokenizer.Load(hfTokenizerDir);
                // a file that loads must encode and decode; text its vocabulary cannot spell is a plain ArgumentException
                try { t.Decode(t.Encode("the <s>  café 123 🙂\n")); }
                catch (ArgumentException e) when (e.GetType() == typeof(ArgumentException)) { throw new InvalidDataException(e.Message); }
            }),
            new FuzzTarget(TrainingCheckpoint.StateFile, [stateBytes], bytes =>
            {
                File.WriteAllBytes(Path.Combine(stateSlot, TrainingCheckpoint.StateFile), bytes);
                TrainingCheckpoint.LoadStateWithFiles(stateSlot);
            }),
            new FuzzTarget("corpus (data file)", [Encoding.UTF8.GetBytes(text), [0xEF, 0xBB, 0xBF, (byte)'h', (byte)'i']], bytes =>
            {
                var path = Path.Combine(corpusDir, "data.txt");
                File.WriteAllBytes(path, bytes);
                Corpus.Load(path, "char");
            }, JsonAware: false),
        ];
    }

    public void Dispose()
    {
        try { Directory.Delete(WorkDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
