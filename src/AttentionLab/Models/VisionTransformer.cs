using AttentionLab.Attention;
using AttentionLab.Inspection;
using AttentionLab.IO;
using AttentionLab.Ops;
using AttentionLab.Tensors;
using AttentionLab.Training;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AttentionLab.Models;

/// <summary>
/// A small vision transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words"), pre-LayerNorm:
/// <code>
/// x = patch_embed(image)                 (B, N, C)    P×P patches as tokens
/// x = [cls_token; x] + pos_embed         (B, N+1, C)  a learned class token first, learned positions
/// x = encoder blocks(x)                  (B, N+1, C)  bidirectional self-attention over patches
/// logits = head(ln_f(x)[:, 0])           (B, K)       classify from the class token alone
/// </code>
/// The class token starts as the same vector for every image; all it knows about the image it gathers through
/// attention, so its attention row over the patches shows where the model looked.
/// </summary>
public sealed class VisionTransformer
{
    public const string ModelType = "vit";

    public VitConfig Config { get; }
    public PatchEmbedding PatchEmbed { get; }
    /// <summary>(C) the learned [CLS] token.</summary>
    public Tensor ClassToken { get; }
    public Tensor ClassTokenGrad { get; }
    /// <summary>(N+1, C) learned positions, [CLS] first.</summary>
    public Tensor Positions { get; }
    public Tensor PositionsGrad { get; }
    public TransformerEncoderBlock[] Blocks { get; }
    public LayerNormLayer FinalNorm { get; }
    public Linear Head { get; }
    public ParameterSet Parameters { get; }

    private int _batch;
    private int[] _labels = [];
    private Tensor? _x, _hidden, _cls, _logits, _dLogits, _dCls, _dHidden, _dx, _dPatches;
    private float[] _losses = [], _logSumExp = [];

    public VisionTransformer(VitConfig config, IAttentionKernel? kernel = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        kernel ??= AttentionKernels.Default;
        var random = new Random(config.Seed);
        int C = config.Channels, T = config.Patches + 1;
        PatchEmbed = new PatchEmbedding(config.ImageSize, config.PatchSize, C, random);
        ClassToken = Init.Normal(new Tensor(C), 0.02, random);
        ClassTokenGrad = new Tensor(C);
        Positions = Init.Normal(new Tensor(T, C), 0.02, random);
        PositionsGrad = new Tensor(T, C);
        Blocks = Enumerable.Range(0, config.Layers).Select(_ => new TransformerEncoderBlock(C, config.Heads, kernel, random)).ToArray();
        FinalNorm = new LayerNormLayer(C);
        Head = new Linear(C, config.ClassNames.Length, bias: true, random);
        Parameters = new ParameterSet(NamedParameters());
    }

    private IEnumerable<(string, Tensor, Tensor)> NamedParameters()
    {
        yield return ("cls_token", ClassToken, ClassTokenGrad);
        yield return ("pos_embed", Positions, PositionsGrad);
        foreach (var p in PatchEmbed.NamedParameters("patch_embed.")) yield return p;
        for (int l = 0; l < Blocks.Length; l++) foreach (var p in Blocks[l].NamedParameters($"blocks.{l}.")) yield return p;
        foreach (var p in FinalNorm.NamedParameters("norm.")) yield return p;
        foreach (var p in Head.NamedParameters("head.")) yield return p;
    }

    /// <summary>Class logits.</summary>
    /// <param name="images">(B, H·W) pixels</param>
    /// <returns>(B, K); the model's own buffer</returns>
    public Tensor Logits(ReadOnlySpan<float> images, int batch)
    {
        int C = Config.Channels, N = Config.Patches, T = N + 1;
        if (images.Length != batch * Config.ImageSize * Config.ImageSize)
            throw new ArgumentException($"images need (B, H·W) = ({batch}, {Config.ImageSize * Config.ImageSize}) values, got {images.Length}");
        var tokens = PatchEmbed.Forward(images, batch);                           // (B, N, C)
        _x = Reuse.Get(_x, batch, T, C);
        for (int b = 0; b < batch; b++)
        {
            var row = _x.Data.AsSpan(b * T * C, T * C);
            ClassToken.Data.CopyTo(row);                                          // [CLS] at position 0
            tokens.Data.AsSpan(b * N * C, N * C).CopyTo(row[C..]);                // patches at 1..N
            TensorPrimitives.Add(row, Positions.Data, row);                       // + pos_embed
        }
        var x = _x;
        foreach (var block in Blocks) x = block.Forward(x);                       // (B, T, C)
        _hidden = FinalNorm.Forward(x);                                           // (B, T, C)
        _cls = Reuse.Get(_cls, batch, C);
        for (int b = 0; b < batch; b++) _hidden.Data.AsSpan(b * T * C, C).CopyTo(_cls.Data.AsSpan(b * C, C)); // (B, C)
        _logits = Reuse.Get(_logits, batch, Config.ClassNames.Length);
        Head.Forward(_cls.Data, _logits.Data, batch);                             // (B, K)
        _batch = batch;
        return _logits;
    }

    /// <summary>Forward pass and the mean cross-entropy against <paramref name="labels"/>.</summary>
    /// <param name="images">(B, H·W)</param>
    /// <param name="labels">(B)</param>
    public float Forward(ReadOnlySpan<float> images, ReadOnlySpan<int> labels)
    {
        var logits = Logits(images, labels.Length);
        if (_losses.Length != labels.Length) { _losses = new float[labels.Length]; _logSumExp = new float[labels.Length]; _labels = new int[labels.Length]; }
        labels.CopyTo(_labels);
        return CrossEntropy.Forward(logits.Data, labels, Config.ClassNames.Length, _losses, _logSumExp);
    }

    /// <summary>Adds dLoss/dParameters of the last <see cref="Forward"/>.</summary>
    public void Backward()
    {
        if (_logits is null || _labels.Length != _batch) throw new InvalidOperationException("Backward needs a Forward call first");
        int B = _batch, C = Config.Channels, N = Config.Patches, T = N + 1, K = Config.ClassNames.Length;
        _dLogits = Reuse.Get(_dLogits, B, K);
        CrossEntropy.Backward(_logits.Data, _logSumExp, _labels, K, 1f / B, _dLogits.Data);
        _dCls = Reuse.Get(_dCls, B, C);
        Head.Backward(_cls!.Data, _dLogits.Data, _dCls.Data, B);                 // (B, C)
        _dHidden = Reuse.Zeros(_dHidden, B, T, C);                                // only the [CLS] row has a gradient
        for (int b = 0; b < B; b++) _dCls.Data.AsSpan(b * C, C).CopyTo(_dHidden.Data.AsSpan(b * T * C, C));
        _dx = Reuse.Zeros(_dx, B, T, C);
        FinalNorm.Backward(_dHidden, _dx);
        var dx = _dx;
        for (int l = Blocks.Length - 1; l >= 0; l--) dx = Blocks[l].Backward(dx);
        _dPatches = Reuse.Get(_dPatches, B, N, C);
        for (int b = 0; b < B; b++)
        {
            var row = dx.Data.AsSpan(b * T * C, T * C);
            TensorPrimitives.Add(PositionsGrad.Data, row, PositionsGrad.Data);    // dpos += dx[b]
            TensorPrimitives.Add(ClassTokenGrad.Data, row[..C], ClassTokenGrad.Data); // dcls += dx[b, 0]
            row[C..].CopyTo(_dPatches.Data.AsSpan(b * N * C, N * C));
        }
        PatchEmbed.Backward(_dPatches.Data);
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

    /// <summary>Classifies one image and returns every layer's attention ((N+1) × (N+1), [CLS] first), the class
    /// probabilities and the pixels (extra: "probabilities", "pixels", "image_size", "patch_size").</summary>
    /// <param name="image">(H·W) pixels</param>
    public ModelAttention Inspect(ReadOnlySpan<float> image, string description = "image")
    {
        var logits = Logits(image, 1);
        var probabilities = new float[logits.Length];
        TensorPrimitives.SoftMax(logits.Data, probabilities);
        int predicted = TensorPrimitives.IndexOfMax(probabilities);
        var labels = TokenLabels();
        var maps = Blocks.Select((b, l) => AttentionMap.FromBatch(AttentionKinds.EncoderSelf, l, b.Attention.LastWeights!, 0, labels, labels)).ToList();
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

    public void Save(string directory) => ModelFolder.Save(directory, ModelType, ModelFolder.Serialize(Config), Parameters);

    /// <exception cref="InvalidDataException">not a ViT model folder, or damaged</exception>
    public static VisionTransformer Load(string directory, IAttentionKernel? kernel = null)
        => ModelFolder.Load(directory, ModelType, (VitConfig config) => new VisionTransformer(config, kernel), m => m.Parameters);
}
