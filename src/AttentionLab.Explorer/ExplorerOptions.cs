using AttentionLab.Models;
using AttentionLab.Training;
using Microsoft.Extensions.Logging;

namespace AttentionLab.Explorer;

/// <summary>How <c>attnlab explore</c> starts the server.</summary>
public sealed record ExplorerOptions
{
    /// <summary>Model directories given with --model.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>Where trained runs live; models directly under it can be opened by name ("runs/NAME").</summary>
    public string? RunsDirectory { get; init; } = "runs";

    /// <summary>TCP port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; } = 5173;

    /// <summary>Largest request body accepted (bytes).</summary>
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;

    /// <summary>Inference views per model: how many requests on one model run at the same time.</summary>
    public int ViewsPerModel { get; init; } = 2;

    /// <summary>How GPT-2 models hold their streamed weights (--dtype); null: each folder's own dtype (BF16 folders
    /// stay BF16, float32 ones float32).</summary>
    public AttentionLab.Kernels.WeightFormat? WeightFormat { get; init; }

    /// <summary>How the page may train the demo model when there is none (null: it cannot).</summary>
    public DemoTrainingSpec? Demo { get; init; }

    /// <summary>Where the server logs (an internal error, answered 500, is logged with its exception); null: nowhere.
    /// <c>attnlab explore</c> gives a <see cref="TextWriterLoggerProvider"/> on stderr.</summary>
    public ILoggerProvider? Log { get; init; }
}

/// <summary>The demo run the page can start: model, training options, data (a file, or
/// <see cref="AttentionLab.Datasets.TinyShakespeare.Source"/> for the bundled text) and time budget.</summary>
public sealed record DemoTrainingSpec(DecoderConfig Config, TrainingOptions Training, string DataPath, TimeSpan Budget);
