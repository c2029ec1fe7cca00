using System.Text.Json.Nodes;
using AttentionLab.Experiments;
using AttentionLab.Models;
using AttentionLab.Training;

namespace AttentionLab.Tests.Experiments;

/// <summary>
/// Each experiment at a short, fixed step count on a tiny GPT (1 layer, 4 heads, 32 wide, context 32), checking the
/// direction the course claims. Fixed steps and seeds make every run deterministic.
/// </summary>
public class ExperimentTests
{
    private static readonly Lazy<Corpus> Shakespeare = new(() => Corpus.Load(Path.Combine(RepoRoot.Path, "data", "tinyshakespeare.txt"), "char"));

    private static ExperimentContext Context(int steps, int context = 32) => new(Shakespeare.Value, new ExperimentOptions
    {
        Steps = steps,
        Model = new Gpt2Config { VocabSize = 65, ContextLength = context, Layers = 1, Channels = 32, Heads = 4 },
        Training = new ExperimentOptions().Training with { BatchSize = 8, EvalBatches = 4 },
    });

    private static void AssertShape(ExperimentResult result, string name, int runs)
    {
        var json = ExperimentJson.ToJson(result);
        Assert.Equal(name, (string)json["experiment"]!);
        var array = json["runs"]!.AsArray();
        Assert.Equal(runs, array.Count);
        foreach (var run in array)
        {
            Assert.False(string.IsNullOrEmpty((string)run!["setting"]!));
            Assert.True((int)run["steps"]! >= 0);
            Assert.True(double.IsFinite((double)run["train_loss"]!));
            Assert.True(double.IsFinite((double)run["val_loss"]!));
        }
        foreach (var column in result.Columns) Assert.Contains(array, run => run![column] is not null);
        Assert.StartsWith("<svg", ExperimentPlot.Svg(result));
    }

    /// <summary>Part 7, Q31: the untrained loss is within 0.1 nats of ln V (the tolerance), for every V.</summary>
    [Fact]
    public void InitLossIsLnV()
    {
        var result = new InitLossExperiment { VocabSizes = [10, 65, 1000] }.Run(Context(1));
        AssertShape(result, "init-loss", 3);
        foreach (var run in result.Runs)
        {
            double lnV = Math.Log((int)run.Measures["vocab"]!);
            Assert.InRange(run.ValidationLoss, lnV - 0.1, lnV + 0.1);
            Assert.InRange(run.TrainLoss, lnV - 0.1, lnV + 0.1);
        }
    }

    /// <summary>
    /// The no-mask model leans on the future: its loss with the future visible is below its own loss evaluated causally,
    /// and evaluated causally (as generation runs) it is worse than the causal model. (At this budget its training loss
    /// has not yet collapsed below the causal model's: reading token t + 1 needs an attention offset the model has not
    /// learned yet; see docs/experiments/causal-mask.md.)
    /// </summary>
    [Fact]
    public void CausalMaskDirection()
    {
        var result = new CausalMaskExperiment { SampleLength = 20 }.Run(Context(200));
        AssertShape(result, "causal-mask", 2);
        var causal = result.Runs.Single(r => r.Setting == "causal");
        var noMask = result.Runs.Single(r => r.Setting == "no-mask");
        double noMaskCausal = (double)noMask.Measures["causal_eval_loss"]!;
        double noMaskCausalTrain = (double)noMask.Measures["causal_eval_train_loss"]!;
        Assert.True(noMask.TrainLoss < noMaskCausalTrain, $"no-mask train {noMask.TrainLoss} vs the same evaluated causally {noMaskCausalTrain}");
        Assert.True(noMaskCausal > causal.ValidationLoss, $"no-mask evaluated causally {noMaskCausal} vs causal val {causal.ValidationLoss}");
        Assert.Equal(causal.ValidationLoss, (double)causal.Measures["causal_eval_loss"]!, 1e-4); // the causal model is evaluated causally anyway
        Assert.Equal(20, ((string)noMask.Measures["sample"]!).EnumerateRunes().Count());
    }

    /// <summary>Dropping 1/√d_k (d_k = 8 here) makes every score √8 times wider: the trained heads are sharper (higher
    /// mean max weight, lower entropy).</summary>
    [Fact]
    public void ScalingDirection()
    {
        var result = new ScalingExperiment().Run(Context(40));
        AssertShape(result, "scaling", 2);
        var scaled = result.Runs[0]; var unscaled = result.Runs[1];
        Assert.Equal(1.0, (double)unscaled.Measures["scale"]!);
        Assert.Equal(1 / Math.Sqrt(8), (double)scaled.Measures["scale"]!, 1e-5);
        Assert.True((double)unscaled.Measures["mean_max_weight"]! > (double)scaled.Measures["mean_max_weight"]!);
        Assert.True((double)unscaled.Measures["mean_entropy"]! < (double)scaled.Measures["mean_entropy"]!);
        Assert.True((double)scaled.Measures["grad_norm_wq"]! > 0 && (double)scaled.Measures["grad_norm_wk"]! > 0);
        Assert.Equal(4, scaled.Measures["entropy"]![0]!.AsArray().Count);      // (L, H)
    }

    [Fact]
    public void HeadsReportsEntropyPerHead()
    {
        var result = new HeadsExperiment { HeadCounts = [1, 4] }.Run(Context(20));
        AssertShape(result, "heads", 2);
        Assert.Equal(result.Runs[0].Parameters, result.Runs[1].Parameters);       // equal d_model: equal size
        Assert.Single(result.Runs[0].Measures["entropy"]![0]!.AsArray());
        Assert.Equal(4, result.Runs[1].Measures["entropy"]![0]!.AsArray().Count);
        Assert.Equal(8, (int)result.Runs[1].Measures["head_dim"]!);
        Assert.Throws<ArgumentException>(() => new HeadsExperiment { HeadCounts = [3] }.Run(Context(1)));
    }

    /// <summary>Order-blindness costs: without positions the model cannot tell the previous character from earlier ones.
    /// (Early on, before 300 or so steps here, "none" is ahead: the learned table starts as noise.)</summary>
    [Fact]
    public void PositionsDirection()
    {
        var result = new PositionsExperiment().Run(Context(600));
        AssertShape(result, "positions", 3);
        var learned = result.Runs.Single(r => r.Setting == "learned");
        var none = result.Runs.Single(r => r.Setting == "none");
        Assert.True(none.ValidationLoss > learned.ValidationLoss, $"none {none.ValidationLoss} vs learned {learned.ValidationLoss}");
        Assert.Equal(learned.Parameters - 32 * 32, none.Parameters);            // no trained table
    }

    /// <summary>A GRU of about the GPT's size trains on the text, and both models are scored on the copy task. At a delay
    /// of 1 both learn it; the long-range comparison is in docs/experiments/attention-vs-rnn.md.</summary>
    [Fact]
    public void AttentionAndGruAreComparedAtEqualSize()
    {
        var experiment = new AttentionVsRnnExperiment { Copy = new CopyTask(Symbols: 4, Delay: 1, Length: 16), CopyEpisodes = 16 };
        var result = experiment.Run(Context(300));
        AssertShape(result, "attention-vs-rnn", 4);
        var gpt = result.Runs.Single(r => r.Setting == "gpt"); var gru = result.Runs.Single(r => r.Setting == "gru");
        Assert.InRange(gru.Parameters, gpt.Parameters * 0.95, gpt.Parameters * 1.05);
        Assert.True(gru.ValidationLoss < Math.Log(65) - 0.5, $"the GRU learns the text: {gru.ValidationLoss}");
        Assert.True(gpt.ValidationLoss < Math.Log(65) - 0.5, $"the GPT learns the text: {gpt.ValidationLoss}");
        foreach (var setting in new[] { "gpt copy", "gru copy" })
        {
            double accuracy = (double)result.Runs.Single(r => r.Setting == setting).Measures["copy_accuracy"]!;
            Assert.True(accuracy > 0.9, $"{setting}: {accuracy}");
        }
    }

    [Fact]
    public void CopyTaskTargetsAreTheSymbolsDelayStepsBack()
    {
        var task = new CopyTask(Symbols: 5, Delay: 3, Length: 10);
        Assert.Equal(6, task.VocabSize);
        var random = new SplitMix64(1);
        int T = task.Context;
        var x = new int[2 * T]; var y = new int[2 * T];
        task.Fill(ref random, x, y, 2);
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < T; t++)
            {
                Assert.InRange(x[b * T + t], 1, 5);
                Assert.Equal(t < 3 ? CopyTask.Nothing : x[b * T + t - 3], y[b * T + t]);
            }
        Assert.Throws<ArgumentException>(() => new CopyTask(Symbols: 4, Delay: 8, Length: 8).Validate());
    }

    [Fact]
    public void CatalogFindsEveryExperimentByName()
    {
        Assert.Equal(["init-loss", "scaling", "causal-mask", "heads", "positions", "attention-vs-rnn"], ExperimentCatalog.Names);
        Assert.Contains("known: init-loss", Assert.Throws<ArgumentException>(() => ExperimentCatalog.Find("dropout")).Message);
    }
}
