using Cluster.Client.Shell;

namespace Cluster.Client.Tests;

[Collection(ConsoleClusterCollection.Name)]
public sealed class ShellTests(ConsoleClusterFixture fixture)
{
    [Fact]
    public async Task Shell_runs_each_line_as_a_command_until_exit()
    {
        await using var harness = new ConsoleHarness(fixture.Client);
        var input = new PlainLineReader(new StringReader("nodes --json\n\n# a comment\njbos\nexit\nstatus\n"));

        int code = await new InteractiveShell(harness.App, input).RunAsync(() => CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Contains("\"nodeId\": \"Silo_0/cpu0\"", harness.RawSoFar());
        Assert.Contains("Did you mean 'jobs'", harness.Error.Output);
        Assert.Contains("(exit code 2)", harness.Error.Output);
        Assert.DoesNotContain("silos", harness.Out.Output); // nothing runs after exit
        Assert.Contains("Silo_0/cpu0", harness.Context.Ids.Nodes); // ids for Tab, refreshed after each command
    }

    [Fact]
    public async Task Tab_completes_commands_and_ids()
    {
        await using var harness = new ConsoleHarness(fixture.Client);
        harness.Context.Ids.Jobs = ["alpha-run", "beta-run"];
        harness.Context.Ids.Nodes = ["Silo_0/cpu0", "Silo_1/cpu0"];

        Assert.Contains("watch", InteractiveShell.Completions(harness.App, "job wa", 6));
        Assert.Contains("checkpoint", InteractiveShell.Completions(harness.App, "che", 3));
        var jobs = InteractiveShell.Completions(harness.App, "job show ", 9);
        Assert.Contains("alpha-run", jobs);
        Assert.Contains("beta-run", jobs);
        Assert.Contains("Silo_1/cpu0", InteractiveShell.Completions(harness.App, "node drain ", 11));
    }

    [Fact]
    public void Line_editor_recalls_history_and_completes_on_tab()
    {
        var keys = new ScriptedKeys();
        keys.Type("status").Enter();
        keys.Type("job sh").Tab().Type("x").Enter();
        keys.Up().Up().Enter();                     // "status" again
        keys.Type("nodes").Left().Left().Backspace().Enter(); // "noes"
        keys.Ctrl(ConsoleKey.D);
        var output = new StringWriter();
        var editor = new LineEditor(keys, output, (line, cursor) => line[..cursor].EndsWith("sh", StringComparison.Ordinal) ? ["show"] : []);

        Assert.Equal("status", editor.ReadLine("> "));
        Assert.Equal("job show x", editor.ReadLine("> "));
        Assert.Equal("status", editor.ReadLine("> "));
        Assert.Equal("noes", editor.ReadLine("> "));
        Assert.Null(editor.ReadLine("> "));
        Assert.Equal(["status", "job show x", "status", "noes"], editor.History);
    }

    /// <summary>Key presses as a person types them.</summary>
    private sealed class ScriptedKeys : IKeySource
    {
        private readonly Queue<ConsoleKeyInfo> _keys = new();

        public ScriptedKeys Type(string text)
        {
            foreach (char c in text)
                _keys.Enqueue(new ConsoleKeyInfo(c, c == ' ' ? ConsoleKey.Spacebar : ConsoleKey.A, false, false, false));
            return this;
        }

        public ScriptedKeys Enter() => Key(ConsoleKey.Enter, '\r');

        public ScriptedKeys Tab() => Key(ConsoleKey.Tab, '\t');

        public ScriptedKeys Up() => Key(ConsoleKey.UpArrow);

        public ScriptedKeys Left() => Key(ConsoleKey.LeftArrow);

        public ScriptedKeys Backspace() => Key(ConsoleKey.Backspace, '\b');

        public ScriptedKeys Ctrl(ConsoleKey key)
        {
            _keys.Enqueue(new ConsoleKeyInfo('\u0004', key, false, false, true));
            return this;
        }

        private ScriptedKeys Key(ConsoleKey key, char c = '\0')
        {
            _keys.Enqueue(new ConsoleKeyInfo(c, key, false, false, false));
            return this;
        }

        public ConsoleKeyInfo ReadKey() => _keys.Dequeue();
    }
}
