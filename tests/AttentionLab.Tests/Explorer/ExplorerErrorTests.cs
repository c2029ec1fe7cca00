using System.Text.Json.Nodes;
using AttentionLab.Explorer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AttentionLab.Tests.Explorer;

/// <summary>
/// A bug is not a user error: bad input (the edge's checks, a library <see cref="ArgumentException"/>) is a 4xx with
/// one line; anything else — an <see cref="InvalidOperationException"/> included — is a 500 with one line in the JSON
/// body and a log entry with the exception, never a stack trace in the answer.
/// </summary>
[Collection("explorer")]
public class ExplorerErrorTests(ExplorerFixture f)
{
    [Fact]
    public void Bad_input_is_a_4xx_and_a_bug_is_a_500()
    {
        Assert.Equal((413, "too long"), ExplorerApi.ToError(new ExplorerException(413, "too long")));
        Assert.Equal((400, "bad head"), ExplorerApi.ToError(new ArgumentException("bad head")));
        Assert.Equal((400, "bad layer"), ExplorerApi.ToError(new ArgumentOutOfRangeException(null, "bad layer")));
        Assert.Equal((500, "internal error (InvalidOperationException): the cache moved"),
            ExplorerApi.ToError(new InvalidOperationException("the cache moved\n   at Somewhere.cs:line 3")));
        Assert.Equal((500, "internal error (NullReferenceException): oops"), ExplorerApi.ToError(new NullReferenceException("oops")));
        Assert.Equal(507, ExplorerApi.ToError(new OutOfMemoryException())!.Value.Status);
        Assert.Null(ExplorerApi.ToError(new OperationCanceledException()));
    }

    private static async Task<(int Status, string Body, string Log)> Answer(Func<Task<JsonNode>> work)
    {
        var log = new StringWriter();
        var provider = new TextWriterLoggerProvider(log);
        var api = new ExplorerApi(new ModelCatalog([], null), null, provider.CreateLogger("attnlab explore"));
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/inspect";
        context.Response.Body = new MemoryStream();
        await api.Handle(context, work);
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, await new StreamReader(context.Response.Body).ReadToEndAsync(), log.ToString());
    }

    [Fact]
    public async Task An_internal_error_is_a_logged_500_with_one_line()
    {
        var (status, body, log) = await Answer(() => throw new InvalidOperationException("the KV cache has changed\nsecond line"));
        Assert.Equal(500, status);
        var error = (string)JsonNode.Parse(body)!["error"]!;
        Assert.Equal("internal error (InvalidOperationException): the KV cache has changed", error);
        Assert.Single(JsonNode.Parse(body)!.AsObject());              // {"error": ...} and nothing else
        Assert.DoesNotContain("   at ", body);
        Assert.DoesNotContain("second line", body);
        // the log has the request, the status and the whole exception, stack trace included
        Assert.Contains("attnlab explore: error: POST /api/inspect answered 500", log);
        Assert.Contains("System.InvalidOperationException: the KV cache has changed", log);
        Assert.Contains("   at ", log);
    }

    [Fact]
    public async Task Bad_input_is_a_4xx_with_one_line_and_no_log_entry()
    {
        var (status, body, log) = await Answer(() => throw new ArgumentException("\"layer\" must be in [0, 1]\nmore"));
        Assert.Equal(400, status);
        Assert.Equal("\"layer\" must be in [0, 1]", (string)JsonNode.Parse(body)!["error"]!);
        Assert.Equal("", log);
        (status, body, log) = await Answer(() => throw new ExplorerException(404, "unknown model 'x'"));
        Assert.Equal(404, status);
        Assert.Equal("unknown model 'x'", (string)JsonNode.Parse(body)!["error"]!);
        Assert.Equal("", log);
        (status, body, _) = await Answer(() => Task.FromResult<JsonNode>(new JsonObject { ["ok"] = true }));
        Assert.Equal(200, status);
        Assert.Equal("""{"ok":true}""", body);
    }

    /// <summary>Heads given as anything but pairs of numbers are bad input: JsonElement.TryGetInt32 on a string threw
    /// InvalidOperationException, which was answered as a 400 only because every InvalidOperationException was.</summary>
    [Theory]
    [InlineData("""[["a", 1]]""")]
    [InlineData("""[[0, true]]""")]
    [InlineData("""[[0, 1.5]]""")]
    [InlineData("""[[0]]""")]
    public async Task Heads_that_are_not_pairs_of_integers_are_a_400(string zero)
    {
        var (status, body) = await f.Post("/api/intervene", $$"""{"model": "small", "text": "abc", "zero": {{zero}}}""");
        Assert.Equal(400, status);
        Assert.Equal("\"zero\" must be an array of [layer, head] pairs", (string)JsonNode.Parse(body)!["error"]!);
    }
}
