using AttentionLab.Datasets;
using AttentionLab.Models;
using AttentionLab.Tests.Attention;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.Models;

/// <summary>
/// Finite-difference checks of each whole model's backward pass on a tiny config: for a deterministic sample of
/// elements of every parameter tensor, the analytic dLoss/dθ against (L(θ + h) − L(θ − h)) / 2h of the model's own
/// loss (padding, masks and ignored targets included). Step and tolerance as <see cref="TestData.GradCheck"/> argues
/// (h = 1e-2; 1e-4 absolute + 1e-3 relative), widened to 2e-4 absolute because each loss here runs through several
/// LayerNorms in float32, whose rounding noise is ~2× that of a single op.
/// </summary>
public class ModelGradientCheckTests
{
    private const float H = 1e-2f;
    private const double Atol = 2e-4, Rtol = 1e-3;

    /// <summary>The same check for a model of the one stack: every view of its parameter arena (wte and wpe are the
    /// embeddings unless <paramref name="isEmbedding"/> says which are), gradients from its gradient arena.</summary>
    internal static void Check(ParameterArena parameters, ParameterArena gradients, Func<float> loss, Action backward, int perTensor = 4,
        Func<string, bool>? isEmbedding = null)
    {
        var random = new Random(11);
        isEmbedding ??= name => name.EndsWith(".wte.weight", StringComparison.Ordinal) || name.EndsWith(".wpe.weight", StringComparison.Ordinal);
        foreach (var v in parameters.Layout.All.Where(v => isEmbedding(v.Name)))
        {
            var values = parameters[v];
            for (int i = 0; i < values.Length; i++) values[i] = TestData.Normal(random, 1, 0.5)[0];
        }
        gradients.Clear();
        loss();
        backward();
        var analytic = gradients.Data.ToArray();
        foreach (var v in parameters.Layout.All)
        {
            int n = v.Length;
            var indices = Enumerable.Range(0, perTensor).Select(k => (int)((long)k * 7919 % n)).Distinct();
            foreach (int i in indices)
            {
                double numeric = TestData.CentralDifference(parameters.Data, v.Offset + i, H, () => loss());
                double a = analytic[v.Offset + i];
                Assert.True(Math.Abs(numeric - a) <= Atol + Rtol * Math.Abs(numeric),
                    $"{v.Name}[{i}]: analytic {a:G7}, finite difference {numeric:G7}");
            }
        }
    }

    /// <summary>A post-norm GPT (<see cref="NormPlacement.Post"/>: x = ln_1(x + attn(x)); x = ln_2(x + mlp(x))), two
    /// blocks, through its whole backward.</summary>
    [Fact]
    public void PostNormGptBackward()
    {
        var config = new DecoderConfig { VocabSize = 11, ContextLength = 6, Layers = 2, Channels = 8, Heads = 2, NormPlacement = NormPlacement.Post };
        var model = new DecoderModel(config, AttentionLab.Attention.AttentionKernels.Reference);
        model.InitializeWeights(3);
        int[] tokens = [1, 4, 2, 9, 3, 7, 0, 5, 10, 6], targets = [4, 2, 9, 3, 7, 5, 10, 6, 1, 2];
        Check(model.Parameters, model.Gradients, () => model.Forward(tokens, 2, 5, targets), () => model.Backward(), perTensor: 6,
            isEmbedding: name => name is "transformer.wte.weight" or "transformer.wpe.weight");
    }

    [Fact]
    public void Seq2SeqBackward()
    {
        var task = new ReverseTask();
        var model = new Seq2SeqModel(new Seq2SeqConfig { Channels = 8, Heads = 2, EncoderLayers = 1, DecoderLayers = 1, MaxSourceLength = 10, MaxTargetLength = 10 });
        // sources of unequal length: padding in the encoder, in cross-attention and in the ignored targets
        var batch = Seq2SeqBatch.From([("abcdefg", "gfedcba"), ("xyz", "zyx")], model.Vocabulary);
        // through the one stack (fused (in, out) views): 12 elements per arena view, as many as the 4 per tensor of the
        // module-per-layer model's query, key and value together
        Check(model.Parameters, model.Gradients, () => model.Forward(batch), model.Backward, perTensor: 12,
            isEmbedding: name => name.Contains(".embed.", StringComparison.Ordinal));
    }

    [Fact]
    public void BertBackward()
    {
        var text = "to be, or not to be, that is the question: whether tis nobler in the mind to suffer";
        var corpus = Corpus.FromText(text, CharTokenizer.FromCorpus(text));
        var model = new BertModel(new BertConfig { Characters = string.Concat(((CharTokenizer)corpus.Tokenizer).Vocabulary), Channels = 8, Heads = 2, Layers = 1, MaxLength = 12 });
        var batch = new MaskedLanguageBatches(corpus.Tokens, corpus.Tokenizer.VocabSize, 3, 4, 12, seed: 5, maskProbability: 0.3).Next();
        Assert.True(batch.Lengths.Distinct().Count() > 1, "the batch should mix lengths so padding is exercised");
        // through the one stack: the fused c_attn holds query, key and value, so sample three times as many of it
        Check(model.Parameters, model.Gradients, () => model.Forward(batch), model.Backward, perTensor: 12);
    }

    [Fact]
    public void VisionTransformerBackward()
    {
        // the one stack: patch embedding, GPT-2's blocks (bidirectional), the [CLS] head; the split paths at tiny sizes too
        var model = new VisionTransformer(new VitConfig { ImageSize = 8, PatchSize = 4, Channels = 8, Heads = 2, Layers = 1 }) { ParallelMinimumWork = 0 };
        var random = new SplitMix64(3);
        var images = new float[3 * 64];
        var labels = new int[3];
        ShapeImages.Batch(8, ref random, images, labels);
        Check(model.Parameters, model.Gradients, () => model.Forward(images, labels), model.Backward, isEmbedding: VitEmbedding);
    }

    private static bool VitEmbedding(string name) => name is "pos_embed" or "cls_token";

    [Fact]
    public void VisionTransformerBackwardTwoLayersEveryElementOfTheFusedAttention()
    {
        // two blocks (the residual gradient through a whole block) and more samples of the fused qkv, where a wrong
        // column offset of q, k or v would show
        var model = new VisionTransformer(new VitConfig { ImageSize = 8, PatchSize = 4, Channels = 8, Heads = 2, Layers = 2, Seed = 5 });
        var random = new SplitMix64(4);
        var images = new float[2 * 64];
        var labels = new int[2];
        ShapeImages.Batch(8, ref random, images, labels);
        Check(model.Parameters, model.Gradients, () => model.Forward(images, labels), model.Backward, perTensor: 12, isEmbedding: VitEmbedding);
    }
}
