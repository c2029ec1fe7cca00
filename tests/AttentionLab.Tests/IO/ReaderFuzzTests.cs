using AttentionLab.Diagnostics;

namespace AttentionLab.Tests.IO;

/// <summary>
/// Every file reader is total: 1,500 seeded mutations of real files per reader (about a second each on this
/// machine) are each read or refused with an <see cref="InvalidDataException"/> (the CLI's error for matrices),
/// never another exception and never a hang. The long run (10⁵ per reader) is <c>attnlab bench fuzz</c>;
/// its figures are in docs/robustness.md.
/// </summary>
public sealed class ReaderFuzzTests : IDisposable
{
    private const int Cases = 1_500;
    private readonly ReaderFuzzTargets _targets = new();

    public void Dispose() => _targets.Dispose();

    public static TheoryData<string> Readers => new()
    {
        "safetensors", "model directory (model.safetensors)", "config.json", "attnlab_tokenizer.json", "tokenizer.json (Hugging Face)", "sharded index (model.safetensors.index.json)",
        "sharded checkpoint (one shard)", "training_state.json", "corpus (data file)", "matrix (--q @file)",
    };

    [Theory]
    [MemberData(nameof(Readers))]
    public void EveryMutationIsReadOrRefusedCleanly(string reader)
    {
        var target = reader.StartsWith("matrix", StringComparison.Ordinal)
            ? AttentionLab.Cli.Commands.BenchFuzzCommand.MatrixTarget(_targets.WorkDirectory)
            : _targets.All.Single(t => t.Name == reader);
        var report = ReaderFuzzer.Run(target, Cases, seed: 7, hangLimit: TimeSpan.FromSeconds(20));
        Assert.True(report.Crashes == 0, $"{report.Crashes} crashes; first: {report.FirstCrash}");
        Assert.Equal(0, report.Hangs);
        Assert.Equal(Cases, report.Cases);
        // the mutations must reach both outcomes, or the test proves nothing about the reader
        Assert.True(report.Refused > Cases / 2, $"only {report.Refused} refusals");
        Assert.True(report.Accepted > 0, "no mutation was accepted; the seeds or mutations are broken");
    }

    [Fact]
    public void TheSameSeedGivesTheSameCases()
    {
        var target = _targets.All.Single(t => t.Name == "config.json");
        var r1 = new Random(3); var r2 = new Random(3);
        for (int i = 0; i < 50; i++)
            Assert.Equal(ReaderFuzzer.Mutate(target, target.Seeds[0], r1), ReaderFuzzer.Mutate(target, target.Seeds[0], r2));
    }
}
