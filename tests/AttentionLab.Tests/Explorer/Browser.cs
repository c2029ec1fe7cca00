using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace AttentionLab.Tests.Explorer;

/// <summary>Debian's headless Chromium driven by its chromedriver (Selenium), with a fresh profile.</summary>
public sealed class Browser : IDisposable
{
    public const string Chromium = "/usr/bin/chromium";
    public const string Driver = "/usr/bin/chromedriver";

    /// <summary>Why the browser tests cannot run here, or null when they can.</summary>
    public static string? Missing =>
        !File.Exists(Chromium) ? $"{Chromium} is not installed (apt-get install chromium chromium-driver)"
        : !File.Exists(Driver) ? $"{Driver} is not installed (apt-get install chromium-driver)"
        : null;

    private readonly string _profile = Path.Combine(Path.GetTempPath(), "attnlab-chromium-" + Guid.NewGuid().ToString("N")[..8]);
    private ChromeDriver? _driver;

    public ChromeDriver Driver_
    {
        get
        {
            if (_driver is not null) return _driver;
            var options = new ChromeOptions { BinaryLocation = Chromium };
            options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1000", $"--user-data-dir={_profile}");
            var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
            service.SuppressInitialDiagnosticInformation = true;
            service.HideCommandPromptWindow = true;
            _driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
            _driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(30);
            return _driver;
        }
    }

    /// <summary>Opens the URL and waits until the page has drawn its view.</summary>
    public void Open(Uri url)
    {
        Driver_.Navigate().GoToUrl(url);
        WaitReady();
    }

    /// <summary>Waits for the view in progress to finish (body[data-ready=1], set after every render).</summary>
    public void WaitReady()
    {
        new WebDriverWait(Driver_, TimeSpan.FromSeconds(30)).Until(d =>
            (string?)((IJavaScriptExecutor)d).ExecuteScript("return document.body.dataset.ready") == "1");
    }

    public object? Js(string script, params object[] args) => Driver_.ExecuteScript(script, args);

    public void Dispose()
    {
        _driver?.Quit();
        _driver?.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A fact that is skipped, with the reason, where Chromium or its driver is missing.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (Browser.Missing is string why) Skip = why;
    }
}
