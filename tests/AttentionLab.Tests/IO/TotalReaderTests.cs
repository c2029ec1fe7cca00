using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using AttentionLab.IO;
using AttentionLab.Models;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.IO;

/// <summary>The malformed files of issue 7, one by one: each is one clear <see cref="InvalidDataException"/>.</summary>
public sealed class TotalReaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "attnlab-total-" + Guid.NewGuid().ToString("N"));

    public TotalReaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true); }

    private static byte[] Raw(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        data.CopyTo(file, 8 + h.Length);
        return file;
    }

    private static string Refused(byte[] file) =>
        Assert.Throws<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(file))).Message;

    [Fact]
    public void SafetensorsWithBadOffsetsNamesOrValuesAreRefused()
    {
        var eight = new byte[8];
        Assert.Contains("data_offsets", Refused(Raw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}}""", eight)));
        Assert.Contains("data_offsets", Refused(Raw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[null,8]}}""", eight)));
        Assert.Contains("surrogate", Refused(Raw("""{"a\udc00":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", eight)));
        // a name with invalid UTF-8 bytes
        var header = Encoding.UTF8.GetBytes("""{"aX":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""");
        header[2] = 0xFF;
        var file = new byte[8 + header.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        Assert.Contains("UTF-8", Refused(file));
        // NaN and ±∞ weights are refused with the tensor's name and the index
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var data = new byte[8];
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), bad);
            var message = Refused(Raw("""{"h.0.attn.c_attn.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", data));
            Assert.Contains("'h.0.attn.c_attn.weight'", message);
            Assert.Contains("index 1", message);
        }
        // a bf16 NaN too
        Assert.Contains("finite", Refused(Raw("""{"b":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}""", [0xC0, 0x7F])));
    }

    private void WriteConfig(Action<JsonObject> edit)
    {
        var o = DecoderFolder.ConfigJson(DecoderConfig.Tiny);
        edit(o);
        File.WriteAllText(Path.Combine(_dir, "config.json"), o.ToJsonString());
    }

    private string ConfigRefused() => Assert.Throws<InvalidDataException>(() => DecoderFolder.ReadConfig(_dir)).Message;

    [Fact]
    public void ConfigFieldsOfTheWrongTypeOrSizeAreRefusedByName()
    {
        foreach (var (key, value) in new (string, JsonNode?)[]
                 {
                     ("n_inner", "x"), ("layer_norm_epsilon", "1e-5"), ("tie_word_embeddings", 1), ("model_type", 2),
                     ("activation_function", false), ("n_embd", 32.5), ("vocab_size", "65"), ("attnlab_attention", 3), ("attnlab_causal", "yes"),
                 })
        {
            WriteConfig(o => o[key] = value);
            var message = ConfigRefused();
            Assert.Contains($"'{key}'", message);
            Assert.DoesNotContain("\n", message);
        }
        // sizes whose parameter count wraps a 64-bit integer (12·C²·L) are refused, not accepted as negative
        WriteConfig(o => { o["n_embd"] = 2_000_000_000; o["n_head"] = 1; o["n_layer"] = 1_000_000; });
        Assert.Contains("parameters", ConfigRefused());
        WriteConfig(o => o["n_layer"] = -1);
        Assert.Contains("n_layer", ConfigRefused());
        // our own keys with the right types are accepted
        WriteConfig(o => { o["attnlab_attention"] = "naive"; o["attnlab_causal"] = true; o["n_inner"] = null; });
        Assert.Equal(DecoderConfig.Tiny with { Attention = "naive" }, DecoderFolder.ReadConfig(_dir));
    }

    [Fact]
    public void ABrokenLiteralIsOneLineThatDoesNotQuoteTheFile()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{\n  \"n_embd\": tru,\n  \"secret\": \"line 3\",\n  \"more\": 4\n}\n");
        var message = ConfigRefused();
        Assert.Contains("line 2", message);
        Assert.DoesNotContain("\n", message);
        Assert.DoesNotContain("secret", message);
    }

    [Fact]
    public void NonRegularFilesAreRefusedWithoutReadingOrBlocking()
    {
        if (OperatingSystem.IsWindows()) return; // no FIFOs or /dev/zero there
        File.CreateSymbolicLink(Path.Combine(_dir, "config.json"), "/dev/zero");
        var clock = Stopwatch.StartNew();
        Assert.Contains("not a regular file", ConfigRefused());
        var fifo = Path.Combine(_dir, "model.safetensors");
        using (var p = Process.Start("mkfifo", fifo)) p.WaitForExit();
        Assert.Contains("not a regular file", Assert.Throws<InvalidDataException>(() => SafeTensors.Read(fifo)).Message);
        File.Delete(Path.Combine(_dir, "config.json"));
        Directory.CreateDirectory(Path.Combine(_dir, "config.json"));
        Assert.Contains("directory", ConfigRefused());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10)); // neither read /dev/zero to the end nor waited on the FIFO
    }

    [Fact]
    public void TokenizerFilesOfTheWrongShapeAreRefused()
    {
        foreach (var json in new[]
                 {
                     "[1, 2]", """{"type": "char", "vocab_size": "3", "vocabulary": "abc"}""", """{"type": 5}""",
                     """{"type": "char", "vocabulary": "a\ud800b"}""", """{"type": "char", "vocabulary": "aba"}""", """{"type": "char", "vocabulary": ""}""",
                     """{"type": "bpe"}""", "{", "",
                 })
        {
            File.WriteAllText(Path.Combine(_dir, Tokenizers.FileName), json);
            var e = Assert.Throws<InvalidDataException>(() => Tokenizers.Load(_dir));
            Assert.DoesNotContain("\n", e.Message);
        }
        File.WriteAllText(Path.Combine(_dir, Tokenizers.FileName), """{"type": "char", "vocab_size": 3, "vocabulary": "ab🙂"}""");
        Assert.Equal(3, Tokenizers.Load(_dir).VocabSize);
    }

    private string StateRefused(Action<JsonObject> edit)
    {
        var state = new TrainingState { Step = 2, SamplerState = 9, Seconds = 1, Tokens = 10 };
        var text = CharTokenizer.FromCorpus("abc");
        var dir = Path.Combine(_dir, "state-" + Guid.NewGuid().ToString("N"));
        TrainingCheckpoint.Save(dir, _ => { }, text, new TrainingCheckpoint.RunInfo("d.txt", new TrainingOptions()), state, new AdamW(4), "t");
        var path = Path.Combine(dir, TrainingCheckpoint.StateFile);
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        TrainingCheckpoint.LoadState(dir); // valid before the edit
        edit(o);
        File.WriteAllText(path, o.ToJsonString());
        return Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.LoadState(dir)).Message;
    }

    [Fact]
    public void TrainingStatesOutOfRangeAreRefused()
    {
        Assert.Contains("'seconds'", StateRefused(o => o["seconds"] = 1e300));
        Assert.Contains("'step'", StateRefused(o => o["step"] = -1));
        Assert.Contains("'step'", StateRefused(o => o["step"] = "3"));
        Assert.Contains("sampler_state", StateRefused(o => o["sampler_state"] = "-5"));
        Assert.Contains("options", StateRefused(o => o["options"]!["BatchSize"] = 0));
        Assert.Contains("options", StateRefused(o => o["options"]!["Seed"] = -1));
        Assert.Contains("train_losses", StateRefused(o => o["train_losses"] = new JsonArray(new JsonArray(0, "x"))));
        Assert.Contains("'files'", StateRefused(o => o["files"] = new JsonObject { ["../../etc/passwd"] = "00" }));
    }

    [Fact]
    public void CorpusFilesAreBoundedAndRegular()
    {
        if (OperatingSystem.IsWindows()) return;
        var link = Path.Combine(_dir, "zero.txt");
        File.CreateSymbolicLink(link, "/dev/zero");
        Assert.Contains("not a regular file", Assert.Throws<InvalidDataException>(() => Corpus.ReadText(link)).Message);
        Assert.Contains("is a directory", Assert.Throws<InvalidDataException>(() => Corpus.ReadText(_dir)).Message);
        Assert.Throws<FileNotFoundException>(() => Corpus.ReadText(Path.Combine(_dir, "missing.txt")));
    }

    [Fact]
    public void ATinyTemperatureSamplesTheMostLikelyToken()
    {
        // 1e-320 is subnormal: z/τ overflows to ±∞ and ∞ − ∞ was NaN, which picked the least likely token
        float[] logits = [0.5f, 3f, -2f, 2.9f];
        foreach (double t in new[] { 1e-320, double.Epsilon, 1e-300 })
        {
            var sampler = new TokenSampler(new SamplingOptions(Temperature: t, Seed: 1));
            for (int i = 0; i < 20; i++) Assert.Equal(1, sampler.Next(logits));
        }
    }

    [Fact]
    public void ABatchTimesContextThatCannotFitIsOneClearMessage()
    {
        var config = DecoderConfig.ShakespeareChar with { ContextLength = 65536 };
        var e = Assert.Throws<ArgumentException>(() => DecoderTrainingRun.EnsureActivationsFit(config, 65536));
        Assert.Contains("lower the batch or the context", e.Message);
        DecoderTrainingRun.EnsureActivationsFit(DecoderConfig.ShakespeareChar, 12); // nanoGPT's settings fit
    }

    /// <summary>The count follows the kernel: GPT-2 124M at 8 × 1024 holds about 2.02 G floats of activations with
    /// flash (one log-sum-exp per row) but 3.23 G with the B·H·T² weights the materializing kernels save — past one
    /// array. A resumed run is checked with the kernel it continues with.</summary>
    [Fact]
    public void TheActivationCountFollowsTheKernel()
    {
        var config = DecoderConfig.Gpt2_124M;
        DecoderTrainingRun.EnsureActivationsFit(config, 8, AttentionLab.Attention.AttentionKernels.Parse("flash"));
        Assert.Throws<ArgumentException>(() => DecoderTrainingRun.EnsureActivationsFit(config, 8, AttentionLab.Attention.AttentionKernels.Parse("fast")));
        Assert.Throws<ArgumentException>(() => DecoderTrainingRun.EnsureActivationsFit(config, 8));
    }
}
