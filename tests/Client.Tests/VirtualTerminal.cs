using System.Text;

namespace Cluster.Client.Tests;

/// <summary>
/// A tiny terminal of fixed width for the line editor's output: printable characters with auto-wrap (deferred at the
/// right margin, like xterm), CR, LF, and the ANSI sequences the editor writes (cursor up/down/forward/back, clear to
/// end of line and of screen). Shows what a person would see.
/// </summary>
internal sealed class VirtualTerminal(int columns) : TextWriter
{
    private readonly List<char[]> _rows = [];
    private readonly StringBuilder _escape = new();
    private bool _inEscape;
    private bool _pendingWrap;

    public int Row { get; private set; }

    public int Column { get; private set; }

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>The screen's rows, trailing spaces trimmed, empty trailing rows dropped.</summary>
    public IReadOnlyList<string> Screen
    {
        get
        {
            var rows = _rows.Select(r => new string(r).TrimEnd()).ToList();
            while (rows.Count > 0 && rows[^1].Length == 0) rows.RemoveAt(rows.Count - 1);
            return rows;
        }
    }

    public override void Write(char value)
    {
        if (_inEscape)
        {
            _escape.Append(value);
            if (char.IsAsciiLetter(value)) Apply(_escape.ToString());
            return;
        }
        switch (value)
        {
            case '\u001b':
                _inEscape = true;
                _escape.Clear();
                return;
            case '\r':
                Column = 0;
                _pendingWrap = false;
                return;
            case '\n':
                Row++;
                Column = 0; // the tty's output processing turns LF into CR LF
                _pendingWrap = false;
                return;
        }
        if (_pendingWrap)
        {
            Row++;
            Column = 0;
            _pendingWrap = false;
        }
        Line(Row)[Column] = value;
        if (Column == columns - 1) _pendingWrap = true;
        else Column++;
    }

    private void Apply(string sequence)
    {
        _inEscape = false;
        char command = sequence[^1];
        string digits = sequence[1..^1];
        int n = digits.Length == 0 ? 1 : int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        _pendingWrap = false;
        switch (command)
        {
            case 'A':
                Row = Math.Max(0, Row - n);
                break;
            case 'B':
                Row += n;
                break;
            case 'C':
                Column = Math.Min(columns - 1, Column + n);
                break;
            case 'D':
                Column = Math.Max(0, Column - n);
                break;
            case 'K':
                Array.Fill(Line(Row), ' ', Column, columns - Column);
                break;
            case 'J':
                Array.Fill(Line(Row), ' ', Column, columns - Column);
                for (int r = Row + 1; r < _rows.Count; r++) Array.Fill(_rows[r], ' ');
                break;
            default:
                throw new InvalidOperationException($"unexpected escape sequence ESC{sequence}");
        }
    }

    private char[] Line(int row)
    {
        while (_rows.Count <= row) _rows.Add(Enumerable.Repeat(' ', columns).ToArray());
        return _rows[row];
    }
}
