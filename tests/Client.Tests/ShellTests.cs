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
        string first = (await SiloNodes.OfAsync(fixture.Client, "Silo_0"))[0]; // as the silo exposes it: cpu0 here, cuda0 on a GPU machine
        Assert.Contains($"\"nodeId\": \"{first}\"", harness.RawSoFar());
        Assert.Contains("Did you mean 'jobs'", harness.Error.Output);
        Assert.Contains("(exit code 2)", harness.Error.Output);
        Assert.DoesNotContain("silos", harness.Out.Output); // nothing runs after exit
        Assert.Contains(first, harness.Context.Ids.Nodes); // ids for Tab, refreshed after each command
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

    [Fact]
    public void Emacs_keys_edit_the_line()
    {
        var keys = new ScriptedKeys();
        keys.Type("job show demo").Ctrl(ConsoleKey.A).Type("x ").Enter();          // Ctrl+A: to the start
        keys.Type("jobs --team a").Ctrl(ConsoleKey.W).Type("b").Enter();            // Ctrl+W: cut the word before the cursor
        keys.Type("nodes --silo x").Left().Left().Ctrl(ConsoleKey.K).Ctrl(ConsoleKey.E).Type("!").Enter(); // Ctrl+K cuts after, Ctrl+E to the end
        keys.Type("garbage").Ctrl(ConsoleKey.U).Type("status").Enter();             // Ctrl+U: cut before the cursor
        var editor = new LineEditor(keys, new StringWriter(), (_, _) => []);

        Assert.Equal("x job show demo", editor.ReadLine("> "));
        Assert.Equal("jobs --team b", editor.ReadLine("> "));
        Assert.Equal("nodes --silo!", editor.ReadLine("> "));
        Assert.Equal("status", editor.ReadLine("> "));
    }

    [Fact]
    public void Ctrl_R_finds_earlier_lines_and_history_survives_the_session()
    {
        using var folder = new TempFolder();
        string file = folder.File("clusterctl/history");
        var first = new ScriptedKeys();
        first.Type("job show alpha").Enter().Type("nodes --silo gpu-01").Enter().Type("job show beta").Enter();
        var session = new LineEditor(first, new StringWriter(), (_, _) => [], history: new Shell.ShellHistory(file));
        for (int i = 0; i < 3; i++) session.ReadLine("> ");

        var second = new ScriptedKeys();
        second.Ctrl(ConsoleKey.R).Type("show").Enter();                            // the latest match: runs it
        second.Ctrl(ConsoleKey.R).Type("show").Ctrl(ConsoleKey.R).Enter();         // again: one further back
        second.Ctrl(ConsoleKey.R).Type("gpu").Key(ConsoleKey.End).Type(" -o name").Enter(); // another key: keep it for editing
        second.Type("keep").Ctrl(ConsoleKey.R).Type("zzz").Ctrl(ConsoleKey.G).Enter(); // Ctrl+G: the line as it was
        second.Up().Enter();
        var output = new StringWriter();
        var next = new LineEditor(second, output, (_, _) => [], history: new Shell.ShellHistory(file));

        Assert.Equal("job show beta", next.ReadLine("> "));
        Assert.Equal("job show alpha", next.ReadLine("> "));
        Assert.Equal("nodes --silo gpu-01 -o name", next.ReadLine("> "));
        Assert.Equal("keep", next.ReadLine("> "));
        Assert.Equal("keep", next.ReadLine("> "));
        Assert.Contains("(reverse-i-search)'show': job show beta", output.ToString());
        // Running a line again right after itself is remembered once.
        Assert.Equal(["job show alpha", "nodes --silo gpu-01", "job show beta", "job show alpha", "nodes --silo gpu-01 -o name", "keep"],
            new Shell.ShellHistory(file).Lines);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(13)]
    [InlineData(11)]
    [InlineData(18)] // the line ends exactly at the right margin
    public void Lines_longer_than_the_terminal_redraw_in_place(int columns)
    {
        const string prompt = "cluster> ";
        var keys = new ScriptedKeys();
        keys.Type("job submit --id wide-run --steps 300");             // wraps over several rows
        for (int i = 0; i < 20; i++) keys.Left();                        // back into an earlier row
        keys.Type("X").Backspace().Ctrl(ConsoleKey.A).Type("# ").Ctrl(ConsoleKey.E).Type(" --json").Enter();
        var terminal = new VirtualTerminal(columns);
        var editor = new LineEditor(keys, terminal, (_, _) => [], () => columns);

        string line = editor.ReadLine(prompt)!;

        Assert.Equal("# job submit --id wide-run --steps 300 --json", line);
        string expected = prompt + line;
        var rows = Enumerable.Range(0, (expected.Length + columns - 1) / columns).Select(r => expected.Substring(r * columns, Math.Min(columns, expected.Length - r * columns)).TrimEnd()).ToArray();
        Assert.Equal(rows, terminal.Screen); // no stale copies of earlier drawings, nothing lost at the wraps
        Assert.Equal(0, terminal.Column);
        Assert.Equal(rows.Length, terminal.Row); // below the whole line after Enter
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
            _keys.Enqueue(new ConsoleKeyInfo((char)(key - ConsoleKey.A + 1), key, false, false, true));
            return this;
        }

        public ScriptedKeys Key(ConsoleKey key, char c = '\0')
        {
            _keys.Enqueue(new ConsoleKeyInfo(c, key, false, false, false));
            return this;
        }

        public ConsoleKeyInfo ReadKey() => _keys.Dequeue();
    }
}
