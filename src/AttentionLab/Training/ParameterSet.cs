using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AttentionLab.Tensors;

namespace AttentionLab.Training;

/// <summary>One named trainable tensor and its gradient (PyTorch's <c>named_parameters()</c> entry plus <c>.grad</c>).</summary>
public sealed record NamedParameter(string Name, Tensor Value, Tensor Grad);

/// <summary>
/// A model's trainable tensors by their state_dict names: what an optimizer steps, a checkpoint saves and a
/// gradient check perturbs. Models built from layers (encoder-decoder, BERT, ViT) keep each tensor in its layer;
/// this list is the view across them.
/// </summary>
public sealed class ParameterSet
{
    private readonly Dictionary<string, NamedParameter> _byName = new(StringComparer.Ordinal);

    public ParameterSet(IEnumerable<(string Name, Tensor Value, Tensor Grad)> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = new List<NamedParameter>();
        foreach (var (name, value, grad) in parameters)
        {
            var p = new NamedParameter(name, value, grad);
            if (!_byName.TryAdd(name, p)) throw new ArgumentException($"parameter name '{name}' appears twice");
            list.Add(p);
        }
        Items = list;
    }

    public IReadOnlyList<NamedParameter> Items { get; }

    /// <summary>Total number of scalars.</summary>
    public long Count => Items.Sum(p => (long)p.Value.Length);

    public NamedParameter this[string name] =>
        _byName.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"no parameter '{name}'");

    public bool Contains(string name) => _byName.ContainsKey(name);

    public void ZeroGrad()
    {
        foreach (var p in Items) p.Grad.Span.Clear();
    }

    /// <summary>
    /// <c>torch.nn.utils.clip_grad_norm_</c> over every tensor together: the global L2 norm, and when it exceeds
    /// <paramref name="maxNorm"/> every gradient scaled by maxNorm / (norm + 1e-6). Returns the norm before clipping.
    /// </summary>
    public float ClipGradientNorm(float maxNorm)
    {
        double sum = 0;
        foreach (var p in Items) sum += TensorPrimitives.Dot(p.Grad.Data, p.Grad.Data);
        float norm = (float)Math.Sqrt(sum);
        float coefficient = maxNorm / (norm + 1e-6f);
        if (coefficient < 1f)
            foreach (var p in Items) TensorPrimitives.Multiply(p.Grad.Data, coefficient, p.Grad.Data);
        return norm;
    }

    /// <summary>Copies every value of <paramref name="source"/> (same names, same shapes) into this set.</summary>
    public void CopyFrom(ParameterSet source)
    {
        foreach (var p in Items) source[p.Name].Value.Span.CopyTo(p.Value.Span);
    }
}

/// <summary>
/// AdamW over a <see cref="ParameterSet"/>: one <see cref="AdamW"/> (same update, same PyTorch order) per tensor.
/// As nanoGPT does, only matrices and embeddings (rank ≥ 2) are decayed; biases, LayerNorm gains and single
/// vectors such as a class token are not.
/// </summary>
public sealed class ParameterSetAdamW
{
    private readonly (NamedParameter Parameter, AdamW Optimizer)[] _parts;

    public ParameterSetAdamW(ParameterSet parameters, AdamWOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(options);
        _parts = parameters.Items
            .Select(p => (p, new AdamW(p.Value.Length, p.Value.Rank >= 2 ? options : options with { WeightDecay = 0 })))
            .ToArray();
    }

    /// <summary>One update of every tensor with learning rate <paramref name="learningRate"/>.</summary>
    public void Step(float learningRate)
    {
        foreach (var (p, optimizer) in _parts) optimizer.Step(p.Value.Data, p.Grad.Data, learningRate);
    }
}
