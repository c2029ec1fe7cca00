using AttentionLab.Hooks;
using AttentionLab.Interpretability;
using AttentionLab.Models;

namespace AttentionLab.Tests.Interpretability;

/// <summary>The methods on a Llama-family model of the same stack: RMSNorm (no β, no centering), rotary positions,
/// grouped-query attention, SwiGLU, an untied head and H·D ≠ C — the identities hold without GPT-2's LayerNorm or
/// learned positions.</summary>
public class LlamaFamilyInterpretabilityTests
{
    private static readonly int[] Clean = [3, 1, 4, 1, 5, 9, 2, 6];
    private static readonly int[] Corrupted = [3, 1, 7, 1, 5, 9, 8, 6];

    private static DecoderModel Model(int seed)
    {
        var config = new DecoderConfig
        {
            VocabSize = 11, ContextLength = 8, Layers = 2, Channels = 8, Heads = 4, KeyValueHeads = 2, HeadDim = 4, IntermediateSize = 12,
            Norm = NormKind.RmsNorm, Activation = MlpActivation.SwiGlu, Positions = PositionEncoding.Rotary,
            QkvBias = false, OutputProjectionBias = false, MlpBias = false, TiedOutput = false,
        };
        var model = new DecoderModel(config, training: false);
        model.InitializeWeights(seed);
        var rng = new Random(seed);
        var p = model.Parameters.Data;
        for (int i = 0; i < p.Length; i++) p[i] += (float)((rng.NextDouble() * 2 - 1) * 0.4);   // gains away from 1, weights large enough to matter
        return model;
    }

    [Fact]
    public void Lens_attribution_and_patching_identities_hold()
    {
        var model = Model(61);
        model.Forward(Clean, 1, Clean.Length);
        var logits = model.Logits.ToArray();
        Assert.Equal(logits, LogitLens.Logits(model, Clean)[^1]);

        var dla = DirectLogitAttribution.Run(model, Clean, PatchMetric.LogitDifference(2, 7));
        Assert.Equal(logits[7 * 11 + 2] - logits[7 * 11 + 7], dla.Total);
        Assert.Equal(dla.Total, dla.Sum, 4);
        Assert.DoesNotContain(dla.Terms, t => t.Name == "pos_embed");                   // rotary: nothing added to the stream
        Assert.Equal(0f, dla.Terms.Single(t => t.Name == "ln_final.bias").Value);        // RMSNorm has no β, the head no bias
        Assert.Equal(0f, dla.Terms.Single(t => t.Name == "blocks.1.attn.bias").Value, 5);

        var patching = ActivationPatching.Prepare(model, Clean, Corrupted, PatchMetric.LogitDifference(2, 7));
        Assert.Equal(1f, patching.Recovered(patching.PatchResidual(0, Enumerable.Range(0, 8).ToArray())));
        Assert.Equal(0f, patching.Recovered(patching.PatchResidual(0, [])));
        var z = patching.Sweep(PatchSite.HeadZ);
        Assert.Equal((2, 4), (z.Rows, z.Columns));
        for (int l = 0; l < 2; l++)
            for (int h = 0; h < 4; h++) Assert.Equal(patching.Direct(patching.Hooks(PatchSite.HeadZ, l, h)), z.Metric[l * 4 + h], 5);

        var ablation = HeadAblation.Run(model, Clean, AblationKind.Mean, [Corrupted]);
        var means = HeadAblation.MeanOutputs(model, [Corrupted]);
        Assert.Equal(2 * 4 * 4, means.Length);                                            // (L · H · D), D = 4: H·D = 16 ≠ C = 8
        Assert.Equal(model.RunWithHooks(Clean, HeadAblation.Hook(model.Config, 1, 3, means)), ablation.Loss[7], 5);
        Assert.Throws<ArgumentException>(() => NeuronView.Run(model, Clean, 0, 0, 3, 1));  // hook_q is before the rotation: refused
    }
}
