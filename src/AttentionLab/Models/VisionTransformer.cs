using AttentionLab.Attention;
using AttentionLab.Hooks;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Kernels;
using AttentionLab.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AttentionLab.Models;

/// <summary>
/// A small vision transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words"), pre-LayerNorm:
/// <code>
/// x = patch_embed(image)                 (B, N, C)    P×P patches as tokens
/// x = [cls_token; x] + pos_embed         (B, N+1, C)  a learned class token first, learned positions
/// x = encoder blocks(x)                  (B, N+1, C)  bidirectional self-attention over patches (GPT-2's block)
/// logits = head(ln_f(x)[:, 0])           (B, K)       classify from the class token alone
/// loss = mean cross_entropy(logits, labels)
/// </code>
/// The one stack's layers (<c>PatchEmbeddingLayer</c>, <c>TransformerBlock</c> of <c>NormLayer</c>,
/// <c>AttentionLayer</c>, <c>MlpLayer</c>, then <c>ClassifierHead</c>) over one parameter arena (<see cref="VitLayout"/>)
/// and one activation arena per batch size (a <see cref="DecoderActivations"/> of T = N + 1 positions). The class token
/// starts as the same vector for every image; all it knows about the image it gathers through attention, so its
/// attention row over the patches shows where the model looked. Not thread-safe: one forward/backward at a time.
/// </summary>
public sealed class VisionTransformer
{
    public const string ModelType = "vit";

    private readonly DecoderConfig _shape;              // the blocks' sizes as the shared activations read them
    private readonly Layers.PatchEmbeddingLayer _embedding;
    private readonly Layers.TransformerBlock[] _blocks;
    private readonly Layers.ClassifierHead _head;
    private readonly Layers.LayerRun _run = new();
    private DecoderActivations? _acts;
    private float[] _patches = [], _classRows = [], _dClassRows = [];   // (B, N, P²), (B, C), (B, C)
    private Tensor? _logits;                          // (B, K) what Logits returns
    private bool _hasLabels, _consumed;
    private IAttentionKernel _lastKernel;
    private AttentionOptions _lastOptions;

    /// <param name="kernel">the attention kernel of every block; null = <see cref="AttentionKernels.Default"/></param>
    public VisionTransformer(VitConfig config, IAttentionKernel? kernel = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Attention = kernel ?? AttentionKernels.Default;
        _lastKernel = Attention;
        _lastOptions = AttentionOptions;
        Layout = new VitLayout(config);
        Parameters = new ParameterArena(Layout);
        Gradients = new ParameterArena(Layout);
        _shape = new DecoderConfig
        {
            VocabSize = config.ClassNames.Length, ContextLength = config.Patches + 1, Layers = config.Layers,
            Channels = config.Channels, Heads = config.Heads, IsCausal = false,
        };
        int c = config.Channels, h = config.Heads, d = c / h;
        float eps = Ops.LayerNorm.DefaultEpsilon;
        var layout = Layout;
        _embedding = new Layers.PatchEmbeddingLayer(layout.PatchWeight, layout.PatchBias, layout.ClassToken, layout.PositionEmbedding,
            config.ImageSize, config.PatchSize, c);
        _blocks = new Layers.TransformerBlock[config.Layers];
        for (int l = 0; l < _blocks.Length; l++)
        {
            _blocks[l] = Layers.TransformerBlock.Create(l, layout.Blocks[l], NormKind.LayerNorm, eps, MlpActivation.GeluTanh, h, d);
        }
        _head = new Layers.ClassifierHead(new Layers.NormLayer(NormKind.LayerNorm, layout.FinalNormWeight, layout.FinalNormBias, c, eps),
            layout.HeadWeight, layout.HeadBias, config.ClassNames.Length, c);
        Initialize(new Random(config.Seed));
    }

    public VitConfig Config { get; }

    /// <summary>Where each named parameter lives; shared by <see cref="Parameters"/> and <see cref="Gradients"/>.</summary>
    public VitLayout Layout { get; }

    /// <summary>The weights (matrices (in, out), fused qkv); the saved folder's layout is PyTorch's (<see cref="VitLayout.StateDict"/>).</summary>
    public ParameterArena Parameters { get; }

    /// <summary>dLoss/dParameters, same layout; <see cref="Backward"/> adds to them.</summary>
    public ParameterArena Gradients { get; }

    public long ParameterCount => Layout.Count;

    /// <summary>The attention kernel every block calls unless a call's <see cref="ForwardOptions.Attention"/> says otherwise.</summary>
    public IAttentionKernel Attention { get; init; }

    /// <summary>Scale and masks of every block's attention: bidirectional, scale 1/√D.</summary>
    public AttentionOptions AttentionOptions { get; init; } = AttentionOptions.Default;

    /// <summary>Where the matrix products run.</summary>
    public ComputeDevice Device { get; set; } = ComputeDevice.Cpu;

    /// <summary>Row-wise ops with less work than this (elements) stay on one core (tests set 0 to run every split path).</summary>
    internal long ParallelMinimumWork { get; set; } = ParallelRows.DefaultMinimumWork;

    /// <summary>
    /// PyTorch's defaults, drawn from one <see cref="Random"/> in the order the modules were built (patch_embed, cls_token,
    /// pos_embed, each block's query/key/value/out and mlp.fc/proj, head): every nn.Linear weight and bias U(±1/√in),
    /// the class token and the positions N(0, 0.02²), LayerNorm gains 1 and shifts 0. Each weight is drawn in its
    /// saved (out, in) order and written into the arena through <see cref="VitLayout.StateDict"/>.
    /// </summary>
    private void Initialize(Random random)
    {
        var p = Parameters.Data;
        p.AsSpan().Clear();
        int c = Config.Channels;
        void Uniform(string name, int inFeatures)
        {
            var entry = Entry(name);
            var values = new float[entry.Length];
            Ops.SequentialInit.Uniform(random, values, 1f / MathF.Sqrt(inFeatures));
            entry.CopyTo(values, p);
        }
        void Normal(string name, double std)
        {
            var entry = Entry(name);
            var values = new float[entry.Length];
            Ops.SequentialInit.Normal(random, values, std);
            entry.CopyTo(values, p);
        }
        void Linear(string prefix, int inFeatures) { Uniform(prefix + "weight", inFeatures); Uniform(prefix + "bias", inFeatures); }
        Linear("patch_embed.proj.", Config.PatchDim);
        Normal("cls_token", 0.02);
        Normal("pos_embed", 0.02);
        for (int l = 0; l < Config.Layers; l++)
        {
            foreach (var part in new[] { "query", "key", "value", "out" }) Linear($"blocks.{l}.attn.{part}.", c);
            Linear($"blocks.{l}.mlp.fc.", c);
            Linear($"blocks.{l}.mlp.proj.", 4 * c);
        }
        Linear("head.", c);
        foreach (var b in Layout.Blocks)
        {
            Parameters[b.Norm1Weight].Fill(1f);
            Parameters[b.Norm2Weight].Fill(1f);
        }
        Parameters[Layout.FinalNormWeight].Fill(1f);
    }

    private StateDictEntry Entry(string name) => Layout.StateDict[name];

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad() => Gradients.Clear();

    /// <summary>Class logits.</summary>
    /// <param name="images">(B, H·W) pixels</param>
    /// <param name="options">this call's kernel, masks and hooks (<c>blocks.{l}.attn.hook_pattern</c> …, T = N + 1)</param>
    /// <returns>(B, K); the model's own buffer, valid until the next call</returns>
    public Tensor Logits(ReadOnlySpan<float> images, int batch, ForwardOptions? options = null)
    {
        Run(images, batch, default, options);
        return _logits!;
    }

    /// <summary>Forward pass and the mean cross-entropy against <paramref name="labels"/>.</summary>
    /// <param name="images">(B, H·W)</param>
    /// <param name="labels">(B) class ids</param>
    public float Forward(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, ForwardOptions? options = null)
    {
        if (labels.IsEmpty) throw new ArgumentException("Forward needs one label per image");
        foreach (int k in labels)
            if ((uint)k >= (uint)Config.ClassNames.Length) throw new ArgumentOutOfRangeException(nameof(labels), $"label {k} is outside [0, {Config.ClassNames.Length})");
        return Run(images, labels.Length, labels, options);
    }

    /// <summary>The one forward path: patches, blocks, head.</summary>
    private float Run(ReadOnlySpan<float> images, int batch, ReadOnlySpan<int> labels, ForwardOptions? options)
    {
        var cfg = Config;
        int pixels = cfg.ImageSize * cfg.ImageSize, c = cfg.Channels, t = cfg.Patches + 1, k = cfg.ClassNames.Length;
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), $"batch must be positive, got {batch}");
        if (images.Length != batch * pixels)
            throw new ArgumentException($"images need (B, H·W) = ({batch}, {pixels}) values, got {images.Length}");
        var kernel = options?.Attention ?? Attention;
        var attentionOptions = options?.AttentionOptions ?? AttentionOptions;
        var hooks = HookRun.Resolve(options?.Hooks, _shape);
        long saved = kernel.SavedLength(new AttentionShape(batch, cfg.Heads, t, t, c / cfg.Heads));
        if (_acts is null || _acts.Batch != batch || _acts.SavedPerBlock != saved)
        {
            _acts = new DecoderActivations(_shape, batch, t, saved, training: true, _acts?.Data);
            _patches = new float[batch * cfg.Patches * cfg.PatchDim];
            _classRows = new float[batch * c];
            _dClassRows = new float[batch * c];
            _logits = new Tensor(batch, k);
        }
        var a = _acts;
        _hasLabels = !labels.IsEmpty;
        if (_hasLabels) labels.CopyTo(a.Targets);
        _consumed = false;
        _lastKernel = kernel;
        _lastOptions = attentionOptions;
        if (hooks?.AnyEdits == true) _hasLabels = false;                                     // an edited pass has no backward
        var run = Prepare(a);
        _embedding.Forward(run, images, _patches, a.Encoded, hooks);                          // (B, T, C)
        var call = new Layers.AttentionCall(kernel, attentionOptions, null, 0, hooks);
        Slot residual = a.Encoded;
        foreach (var block in _blocks)
        {
            block.Forward(run, residual, call);
            residual = a.Blocks[block.Index].Residual3;
        }
        var logits = run[a.Logits][..(batch * k)];                                           // (B, K)
        float loss = _head.Forward(run, residual, _classRows, logits, labels, hooks);
        logits.CopyTo(_logits!.Data);
        return loss;
    }

    /// <summary>Adds dLoss/dParameters of the last <see cref="Forward"/> to <see cref="Gradients"/>.</summary>
    public void Backward()
    {
        if (_acts is null || !_hasLabels) throw new InvalidOperationException("Backward needs a Forward call with labels first (and no editing hooks)");
        if (_consumed) throw new InvalidOperationException("Backward was already called for this Forward");
        var a = _acts;
        var run = Prepare(a);
        int batch = a.Batch, k = Config.ClassNames.Length;
        _head.Backward(run, _blocks.Length > 0 ? a.Blocks[^1].Residual3 : a.Encoded, _classRows, run[a.Logits][..(batch * k)],
            a.Targets.AsSpan(0, batch), _dClassRows);
        _consumed = true;
        var attention = (_lastKernel, _lastOptions);
        for (int l = _blocks.Length - 1; l >= 0; l--)
            _blocks[l].Backward(run, l == 0 ? a.Encoded : a.Blocks[l - 1].Residual3, attention, accumulate: true);
        _embedding.Backward(run, a.DResidual, _patches);
    }

    /// <summary>The layers' view of this pass: the arenas, the device.</summary>
    private Layers.LayerRun Prepare(DecoderActivations a)
    {
        var run = _run;
        run.Parameters = Parameters.Data;
        run.Gradients = Gradients.Data;
        run.Activations = a;
        run.Device = Device;
        run.ParallelMinimumWork = ParallelMinimumWork;
        return run;
    }

    /// <summary>Predicted labels (argmax) for a batch of images.</summary>
    public int[] Predict(ReadOnlySpan<float> images, int batch)
    {
        var logits = Logits(images, batch);
        int K = Config.ClassNames.Length;
        var result = new int[batch];
        for (int b = 0; b < batch; b++) result[b] = TensorPrimitives.IndexOfMax(logits.Data.AsSpan(b * K, K));
        return result;
    }

    /// <summary>Fraction of images classified correctly, in batches of 256.</summary>
    /// <param name="images">(count, H·W)</param>
    public double Accuracy(float[] images, int[] labels)
    {
        int pixels = Config.ImageSize * Config.ImageSize, correct = 0;
        for (int start = 0; start < labels.Length; start += 256)
        {
            int n = Math.Min(256, labels.Length - start);
            var predicted = Predict(images.AsSpan(start * pixels, n * pixels), n);
            for (int i = 0; i < n; i++) if (predicted[i] == labels[start + i]) correct++;
        }
        return labels.Length == 0 ? 0 : (double)correct / labels.Length;
    }

    /// <summary>Token labels: "[CLS]", then "p(row,col)" for each patch.</summary>
    public string[] TokenLabels()
    {
        int side = Config.PatchesPerSide;
        return ["[CLS]", .. Enumerable.Range(0, Config.Patches).Select(i => $"p({i / side},{i % side})")];
    }

    /// <summary>Classifies one image and returns every layer's attention ((N+1) × (N+1), [CLS] first) read through the
    /// hooks <c>blocks.{l}.attn.hook_pattern</c>, the class probabilities and the pixels (extra: "probabilities",
    /// "pixels", "image_size", "patch_size").</summary>
    /// <param name="image">(H·W) pixels</param>
    public ModelAttention Inspect(ReadOnlySpan<float> image, string description = "image")
    {
        var (recorder, cache) = ActivationCache.Recorder(n => n.EndsWith(".attn.hook_pattern", StringComparison.Ordinal));
        var logits = Logits(image, 1, new ForwardOptions { Hooks = recorder });
        var probabilities = new float[logits.Length];
        TensorPrimitives.SoftMax(logits.Data, probabilities);
        int predicted = TensorPrimitives.IndexOfMax(probabilities);
        var labels = TokenLabels();
        var maps = Enumerable.Range(0, Config.Layers)
            .Select(l => AttentionMap.FromBatch(AttentionKinds.EncoderSelf, l, cache[HookNames.Name(HookPoint.Pattern, l)], 0, labels, labels)).ToList();
        var probs = new System.Text.Json.Nodes.JsonObject();
        for (int k = 0; k < probabilities.Length; k++) probs[Config.ClassNames[k]] = Math.Round(probabilities[k], 5);
        return new ModelAttention(ModelType, description, Config.ClassNames[predicted], maps, new System.Text.Json.Nodes.JsonObject
        {
            ["probabilities"] = probs,
            ["image_size"] = Config.ImageSize,
            ["patch_size"] = Config.PatchSize,
            ["pixels"] = new System.Text.Json.Nodes.JsonArray(image.ToArray().Select(p => (System.Text.Json.Nodes.JsonNode)Math.Round(p, 4)).ToArray()),
        });
    }

    /// <summary>The [CLS] query's attention over the N patches (mean over heads) of one inspected layer: (N).</summary>
    public static float[] ClassTokenAttention(AttentionMap map)
    {
        var mean = map.MeanOverHeads();
        return mean.AsSpan(1, map.KeyLength - 1).ToArray();
    }

    /// <summary>The saved tensors (PyTorch's names and (out, in) layout, q/k/v separate) from the arena.</summary>
    public IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> StateDict() => Layout.StateDict.Export(Parameters.Data);

    public void Save(string directory) => ModelFolder.SaveTensors(directory, ModelType, ModelFolder.Serialize(Config), StateDict());

    /// <exception cref="InvalidDataException">not a ViT model folder, or damaged</exception>
    public static VisionTransformer Load(string directory, IAttentionKernel? kernel = null)
    {
        var config = ModelFolder.Deserialize<VitConfig>(ModelFolder.ReadConfig(directory, ModelType), directory);
        VisionTransformer model;
        try { model = new VisionTransformer(config, kernel); }
        catch (ArgumentException e) { throw new InvalidDataException($"{directory}/{ModelFolder.ConfigFile}: {e.Message}", e); }
        var map = model.Layout.StateDict;
        map.Import(ModelFolder.ReadWeights(directory, map.Shapes), model.Parameters.Data);
        return model;
    }
}
