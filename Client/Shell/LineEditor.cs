using System.Text;

namespace Cluster.Client.Shell;

/// <summary>
/// The shell's line editor: cursor keys, Home/End, Backspace/Delete, Ctrl+A/E (start/end), Ctrl+U/K (cut before/after
/// the cursor), Ctrl+W (cut the word before the cursor), history on Up/Down kept between sessions, Ctrl+R reverse
/// search, Tab completion (the common prefix; a second Tab lists the candidates), Ctrl+C clears the line, Ctrl+D on
/// an empty line ends input. Redraws with ANSI sequences and knows the terminal's width, so lines longer than the
/// terminal wrap and redraw correctly.
/// </summary>
internal sealed class LineEditor(IKeySource keys, TextWriter output, Func<string, int, IReadOnlyList<string>> complete, Func<int>? width = null, ShellHistory? history = null)
    : ILineReader
{
    private const string SearchPrompt = "(reverse-i-search)'{0}': ";

    private readonly ShellHistory _history = history ?? new ShellHistory();
    private readonly Func<int> _width = width ?? (() => 80);

    /// <summary>Terminal rows between the first row of the prompt and the cursor, as last drawn.</summary>
    private int _cursorRow;

    public IReadOnlyList<string> History => _history.Lines;

    public string? ReadLine(string prompt)
    {
        var buffer = new StringBuilder();
        int cursor = 0, browsing = _history.Lines.Count;
        string pending = "";
        bool listedOnce = false;
        _cursorRow = 0;
        output.Write(prompt);
        output.Flush();
        while (true)
        {
            var key = keys.ReadKey();
            bool tab = false;
            char control = Control(key);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    return Accept(prompt, buffer.ToString());
                case var _ when control == 'D':
                    if (buffer.Length == 0)
                    {
                        output.WriteLine();
                        return null;
                    }
                    if (cursor < buffer.Length) buffer.Remove(cursor, 1);
                    break;
                case var _ when control == 'C':
                    Redraw(prompt, buffer.ToString(), buffer.Length);
                    output.WriteLine("^C");
                    buffer.Clear();
                    cursor = 0;
                    browsing = _history.Lines.Count;
                    _cursorRow = 0;
                    break;
                case var _ when control == 'A':
                    cursor = 0;
                    break;
                case var _ when control == 'E':
                    cursor = buffer.Length;
                    break;
                case var _ when control == 'U':
                    buffer.Remove(0, cursor);
                    cursor = 0;
                    break;
                case var _ when control == 'K':
                    buffer.Remove(cursor, buffer.Length - cursor);
                    break;
                case var _ when control == 'W':
                    int start = cursor;
                    while (start > 0 && buffer[start - 1] == ' ') start--;
                    while (start > 0 && buffer[start - 1] != ' ') start--;
                    buffer.Remove(start, cursor - start);
                    cursor = start;
                    break;
                case var _ when control == 'R':
                    if (Search(buffer, ref cursor)) return Accept(prompt, buffer.ToString());
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
                    if (browsing == _history.Lines.Count) pending = buffer.ToString();
                    Replace(buffer, _history.Lines[--browsing], ref cursor);
                    break;
                case ConsoleKey.DownArrow when browsing < _history.Lines.Count:
                    browsing++;
                    Replace(buffer, browsing == _history.Lines.Count ? pending : _history.Lines[browsing], ref cursor);
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
            Redraw(prompt, buffer.ToString(), cursor);
        }
    }

    /// <summary>Ctrl+&lt;letter&gt; as the letter, from the modifiers or from the control character a terminal sends.</summary>
    private static char Control(ConsoleKeyInfo key)
    {
        if (key.Modifiers.HasFlag(ConsoleModifiers.Control) && key.Key is >= ConsoleKey.A and <= ConsoleKey.Z)
            return (char)('A' + (key.Key - ConsoleKey.A));
        return key.KeyChar is >= '\u0001' and <= '\u001a' and not '\t' and not '\r' and not '\n' and not '\b'
            ? (char)('A' + key.KeyChar - 1)
            : '\0';
    }

    private string Accept(string prompt, string line)
    {
        Redraw(prompt, line, line.Length); // the cursor to the end, so that output starts below the whole line
        int total = prompt.Length + line.Length;
        if (total == 0 || total % Math.Max(1, _width()) != 0) output.WriteLine(); // at the margin Redraw went down a row already
        output.Flush();
        _cursorRow = 0;
        _history.Add(line);
        return line;
    }

    /// <summary>
    /// Ctrl+R: the latest history line containing what is typed; Ctrl+R again goes further back. Enter runs the match
    /// (returns true); Ctrl+G, Ctrl+C or Esc gives the line back as it was; any other key keeps the match for editing.
    /// </summary>
    private bool Search(StringBuilder buffer, ref int cursor)
    {
        string original = buffer.ToString();
        string query = "";
        int match = -1;
        while (true)
        {
            string found = match >= 0 ? _history.Lines[match] : "";
            int at = match >= 0 ? Math.Max(0, found.IndexOf(query, StringComparison.OrdinalIgnoreCase)) : 0;
            Redraw(string.Format(System.Globalization.CultureInfo.InvariantCulture, SearchPrompt, query), found, at);
            var key = keys.ReadKey();
            char control = Control(key);
            if (key.Key == ConsoleKey.Enter)
            {
                Replace(buffer, found, ref cursor);
                return found.Length > 0;
            }
            if (control == 'R')
            {
                int older = _history.FindBackward(query, match - 1);
                if (older >= 0) match = older;
            }
            else if (control is 'G' or 'C' || key.Key == ConsoleKey.Escape)
            {
                Replace(buffer, original, ref cursor);
                return false;
            }
            else if (key.Key == ConsoleKey.Backspace)
            {
                if (query.Length > 0) query = query[..^1];
                match = _history.FindBackward(query, _history.Lines.Count - 1);
            }
            else if (!char.IsControl(key.KeyChar) && control == '\0' && key.Key is not (ConsoleKey.LeftArrow or ConsoleKey.RightArrow or ConsoleKey.UpArrow or ConsoleKey.DownArrow or ConsoleKey.Home or ConsoleKey.End))
            {
                query += key.KeyChar;
                match = _history.FindBackward(query, match >= 0 ? match : _history.Lines.Count - 1);
            }
            else
            {
                Replace(buffer, match >= 0 ? found : original, ref cursor);
                return false;
            }
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
        Redraw(prompt, text, text.Length);
        output.WriteLine();
        output.WriteLine(string.Join("  ", candidates));
        output.Write(prompt);
        _cursorRow = 0;
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

    /// <summary>
    /// Redraws prompt and text from the prompt's first row, whatever rows the previous drawing took: up to that row,
    /// carriage return, clear to the end of the screen, the text, then back to the cursor's row and column.
    /// </summary>
    private void Redraw(string prompt, string text, int cursor)
    {
        int columns = Math.Max(1, _width());
        var draw = new StringBuilder();
        if (_cursorRow > 0) draw.Append("\u001b[").Append(_cursorRow).Append('A');
        // Clear first: at the right margin the cursor sits on the last character written, which a clear would erase.
        draw.Append('\r').Append("\u001b[J").Append(prompt).Append(text);
        int total = prompt.Length + text.Length;
        int endRow = total / columns;
        // Exactly at the right margin the terminal waits to wrap; go to the next row so that the arithmetic holds.
        if (total > 0 && total % columns == 0) draw.Append("\r\n");
        int position = prompt.Length + cursor;
        int row = position / columns, column = position % columns;
        if (endRow > row) draw.Append("\u001b[").Append(endRow - row).Append('A');
        draw.Append('\r');
        if (column > 0) draw.Append("\u001b[").Append(column).Append('C');
        _cursorRow = row;
        output.Write(draw.ToString());
        output.Flush();
    }
}
