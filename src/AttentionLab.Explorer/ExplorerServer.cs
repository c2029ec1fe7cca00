using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AttentionLab.Explorer;

/// <summary>
/// The Explorer's web server: ASP.NET Core (Kestrel) on 127.0.0.1 only, serving the page and its scripts from the
/// assembly and the JSON/binary API the page and scripts use. Bad input is a 4xx with a one-line
/// <c>{"error": ...}</c>; anything else (a bug) is a 500 with one line, logged (<see cref="ExplorerOptions.Log"/>),
/// never a stack trace in the page (<see cref="ExplorerApi.ToError"/>).
/// </summary>
public sealed class ExplorerServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ExplorerServer(WebApplication app, Uri address, ExplorerApi api)
    {
        _app = app; Address = address; Api = api;
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri Address { get; }

    public ExplorerApi Api { get; }

    public static async Task<ExplorerServer> StartAsync(ExplorerOptions options, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (options.Log is { } log) builder.Logging.AddProvider(log);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port);        // loopback only: the Explorer is a local tool
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        var catalog = new ModelCatalog(options.Models, options.RunsDirectory, options.ViewsPerModel, options.WeightFormat);
        var app = builder.Build();
        var api = new ExplorerApi(catalog, options.Demo, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("attnlab explore"));
        app.Use(async (context, next) =>
        {
            // nothing the page loads may come from elsewhere, and it may call no one else
            context.Response.Headers.ContentSecurityPolicy =
                "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            // the endpoints answer their own errors; this catches what escapes them (the assets), so no request ever
            // gets ASP.NET's error page
            try { await next(context).ConfigureAwait(false); }
            catch (Exception e) when (ExplorerApi.ToError(e) is var (status, message))
            {
                await api.Fail(context, e, status, message).ConfigureAwait(false);
            }
        });
        api.Map(app);
        app.MapGet("/", (HttpContext c) => Asset(c, "index.html"));
        app.MapGet("/{**path}", (HttpContext c, string path) => Asset(c, path));
        await app.StartAsync(cancel).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(bound).Port;
        return new ExplorerServer(app, new Uri($"http://127.0.0.1:{port}/"), api);
    }

    public Task WaitForShutdownAsync(CancellationToken cancel) => _app.WaitForShutdownAsync(cancel);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static readonly Assembly Self = typeof(ExplorerServer).Assembly;
    private static readonly HashSet<string> Assets = new(Self.GetManifestResourceNames().Where(n => n.StartsWith("explorer/", StringComparison.Ordinal)), StringComparer.Ordinal);

    /// <summary>The text of an embedded asset (the snapshot export inlines the page's style).</summary>
    public static string? AssetText(string path)
    {
        var name = "explorer/" + path;
        if (!Assets.Contains(name)) return null;
        using var s = Self.GetManifestResourceStream(name)!;
        return new StreamReader(s).ReadToEnd();
    }

    /// <summary>A file embedded in this assembly (the name is looked up in the resource list, never on disk).</summary>
    private static async Task Asset(HttpContext context, string path)
    {
        var name = "explorer/" + path.Replace('\\', '/');
        if (path.StartsWith("api/", StringComparison.Ordinal) || !Assets.Contains(name))
        {
            await ExplorerApi.WriteError(context, 404, path.StartsWith("api/", StringComparison.Ordinal) ? $"no API endpoint /{ModelCatalog.Shorten(path)}" : "not found").ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            ".png" => "image/png",
            ".woff2" => "font/woff2",
            _ => "application/octet-stream",
        };
        context.Response.Headers.CacheControl = "no-cache";
        await using var stream = Self.GetManifestResourceStream(name)!;
        await stream.CopyToAsync(context.Response.Body).ConfigureAwait(false);
    }

    internal static JsonSerializerOptions Json { get; } = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    internal static JsonNode? Node(object? value) => value is null ? null : JsonSerializer.SerializeToNode(value, Json);
}
