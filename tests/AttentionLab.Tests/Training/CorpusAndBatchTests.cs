using System.Text;
using AttentionLab.Text;
using AttentionLab.Training;

namespace AttentionLab.Tests.Training;

public class CorpusAndBatchTests
{
    private static string Temp(byte[] content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"attnlab-{Guid.NewGuid():N}.txt");
        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public void SplitsNinetyTen()
    {
        var c = Corpus.FromText(new string('a', 50) + new string('b', 50), CharTokenizer.FromCorpus("ab"));
        Assert.Equal(90, c.Train.Length);
        Assert.Equal(10, c.Validation.Length);
        Assert.Equal(1, c.Validation.Span[0]);
    }

    [Fact]
    public void RejectsMissingEmptyBinaryAndInvalidUtf8()
    {
        Assert.Contains("does not exist", Assert.Throws<FileNotFoundException>(() => Corpus.ReadText("/nonexistent/x.txt")).Message);
        Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => Corpus.ReadText(Temp([]))).Message);
        Assert.Contains("binary", Assert.Throws<InvalidDataException>(() => Corpus.ReadText(Temp([65, 0, 66]))).Message);
        Assert.Contains("UTF-8", Assert.Throws<InvalidDataException>(() => Corpus.ReadText(Temp([65, 0xC3, 0x28]))).Message);
        Assert.Equal("hé", Corpus.ReadText(Temp([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("hé")])));
    }

    [Fact]
    public void TooSmallForOneWindowIsAClearError()
    {
        var c = Corpus.FromText("abcdefghijklmnopqrst", CharTokenizer.FromCorpus("abcdefghijklmnopqrst"));
        var e = Assert.Throws<InvalidDataException>(() => c.EnsureFits(8));
        Assert.Contains("context + 1 = 9", e.Message);
        c.EnsureFits(1);
    }

    [Fact]
    public void TargetsAreInputsShiftedByOne()
    {
        var tokens = Enumerable.Range(0, 1000).ToArray(); // token value = position, so shifts are visible
        var batches = new Batches(tokens, batchSize: 4, context: 8, seed: 1);
        var (x, y) = batches.Next();
        for (int b = 0; b < 4; b++)
            for (int t = 0; t < 8; t++)
            {
                Assert.Equal(x[b * 8 + t] + 1, y[b * 8 + t]);
                if (t > 0) Assert.Equal(x[b * 8 + t], x[b * 8 + t - 1] + 1); // contiguous window
            }
        Assert.All(y, v => Assert.InRange(v, 1, 999));
    }

    [Fact]
    public void SameSeedSameBatchesAndStateRestores()
    {
        var tokens = Enumerable.Range(0, 500).ToArray();
        var a = new Batches(tokens, 3, 5, seed: 42);
        var b = new Batches(tokens, 3, 5, seed: 42);
        Assert.Equal(a.Next().Inputs, b.Next().Inputs);
        ulong saved = a.State;
        var next = a.Next().Inputs;
        var c = new Batches(tokens, 3, 5, seed: 7) { State = saved };
        Assert.Equal(next, c.Next().Inputs);
        Assert.NotEqual(new Batches(tokens, 3, 5, seed: 43).Next().Inputs, new Batches(tokens, 3, 5, seed: 42).Next().Inputs);
    }

    [Fact]
    public void EveryWindowStartIsReachable()
    {
        var tokens = Enumerable.Range(0, 12).ToArray();
        var batches = new Batches(tokens, 1, 4, seed: 3);
        var starts = new HashSet<int>();
        for (int i = 0; i < 400; i++) starts.Add(batches.Next().Inputs[0]);
        Assert.Equal(Enumerable.Range(0, 8), starts.Order()); // 12 − 4 = 8 starts, last window's target is token 11
    }

    [Fact]
    public void ScheduleWarmsUpThenDecaysToTheFloor()
    {
        var s = new LearningRateSchedule(1e-3, 1e-4, WarmupSteps: 100, TotalSteps: 2000);
        Assert.Equal(1e-3 / 101, s.At(0), 12);
        Assert.Equal(1e-3 * 100 / 101, s.At(99), 12);
        Assert.Equal(1e-3, s.At(100), 12);
        Assert.Equal(5.5e-4, s.At(1050), 12); // halfway through the cosine
        Assert.Equal(1e-4, s.At(2000), 12);
        Assert.Equal(1e-4, s.At(5000), 12);
        for (int i = 101; i <= 2000; i++) Assert.True(s.At(i) <= s.At(i - 1));
    }
}
