using System.Text;

namespace Cluster.Client.Shell;

/// <summary>
/// A small line editor for the shell: cursor keys, Home/End, Backspace/Delete, history on Up/Down, Tab completion
/// (the common prefix of the candidates; a second Tab lists them), Ctrl+C clears the line, Ctrl+D on an empty line
/// ends input. Redraws the line with ANSI sequences.
/// </summary>
internal sealed class LineEditor(IKeySource keys, TextWriter output, Func<string, int, IReadOnlyList<string>> complete) : ILineReader
{
    public const int HistoryLimit = 500;

    private readonly List<string> _history = [];

    public IReadOnlyList<string> History => _history;

    public string? ReadLine(string prompt)
    {
        var buffer = new StringBuilder();
        int cursor = 0, browsing = _history.Count;
        string pending = "";
        bool listedOnce = false;
        output.Write(prompt);
        output.Flush();
        while (true)
        {
            var key = keys.ReadKey();
            bool tab = false;
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    output.WriteLine();
                    string line = buffer.ToString();
                    if (line.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != line))
                    {
                        _history.Add(line);
                        if (_history.Count > HistoryLimit) _history.RemoveAt(0);
                    }
                    return line;
                case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control):
                    if (buffer.Length == 0)
                    {
                        output.WriteLine();
                        return null;
                    }
                    break;
                case ConsoleKey.C when key.Modifiers.HasFlag(ConsoleModifiers.Control):
                    output.WriteLine("^C");
                    buffer.Clear();
                    cursor = 0;
                    browsing = _history.Count;
                    output.Write(prompt);
                    break;
                case ConsoleKey.Backspace when cursor > 0:
                    buffer.Remove(--cursor, 1);
                    break;
                case ConsoleKey.Delete when cursor < buffer.Length:
                    buffer.Remove(cursor, 1);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < buffer.Length:
                    cursor++;
                    break;
                case ConsoleKey.Home:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                    cursor = buffer.Length;
                    break;
                case ConsoleKey.UpArrow when browsing > 0:
                    if (browsing == _history.Count) pending = buffer.ToString();
                    Replace(buffer, _history[--browsing], ref cursor);
                    break;
                case ConsoleKey.DownArrow when browsing < _history.Count:
                    browsing++;
                    Replace(buffer, browsing == _history.Count ? pending : _history[browsing], ref cursor);
                    break;
                case ConsoleKey.Tab:
                    tab = true;
                    listedOnce = Complete(prompt, buffer, ref cursor, listedOnce);
                    break;
                default:
                    if (!char.IsControl(key.KeyChar))
                        buffer.Insert(cursor++, key.KeyChar);
                    break;
            }
            if (!tab) listedOnce = false;
            Redraw(prompt, buffer, cursor);
        }
    }

    /// <summary>Completes the word at the cursor; lists the candidates on the second Tab when it cannot decide.</summary>
    private bool Complete(string prompt, StringBuilder buffer, ref int cursor, bool listedOnce)
    {
        string text = buffer.ToString();
        int start = text.LastIndexOf(' ', Math.Max(0, cursor - 1)) + 1;
        if (cursor == 0) start = 0;
        string word = text[start..cursor];
        var candidates = complete(text, cursor).Where(c => c.StartsWith(word, StringComparison.Ordinal)).Distinct().ToArray();
        if (candidates.Length == 0) return false;
        string common = candidates.Aggregate(CommonPrefix);
        string insert = candidates.Length == 1 ? candidates[0] + " " : common;
        if (insert.Length > word.Length || candidates.Length == 1)
        {
            buffer.Remove(start, cursor - start).Insert(start, insert);
            cursor = start + insert.Length;
            return false;
        }
        if (!listedOnce) return true;
        output.WriteLine();
        output.WriteLine(string.Join("  ", candidates));
        output.Write(prompt);
        return true;
    }

    private static string CommonPrefix(string a, string b)
    {
        int n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n]) n++;
        return a[..n];
    }

    private static void Replace(StringBuilder buffer, string text, ref int cursor)
    {
        buffer.Clear().Append(text);
        cursor = buffer.Length;
    }

    private void Redraw(string prompt, StringBuilder buffer, int cursor)
    {
        // Carriage return, prompt and text, clear to the end of the line, then move back to the cursor.
        output.Write('\r');
        output.Write(prompt);
        output.Write(buffer.ToString());
        output.Write("\u001b[K");
        int back = buffer.Length - cursor;
        if (back > 0) output.Write($"\u001b[{back}D");
        output.Flush();
    }
}
