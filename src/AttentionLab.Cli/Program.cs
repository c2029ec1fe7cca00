using AttentionLab.Cli;

// The step-by-step output uses √, ᵀ, Σ and box characters: make sure they survive on every console.
Console.OutputEncoding = System.Text.Encoding.UTF8;
return Cli.Run(args, Console.Out, Console.Error);
