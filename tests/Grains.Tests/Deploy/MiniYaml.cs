using System.Text;

namespace MtActors.Grains.Tests.Deploy;

/// <summary>A YAML error with its file line.</summary>
public sealed class YamlException(string file, int line, string message) : Exception($"{file}:{line}: {message}")
{
    public int Line { get; } = line;
}

/// <summary>
/// A strict reader for the subset of YAML that deploy/ uses, so CI can check the manifests without a YAML package:
/// block mappings and sequences (2-space style, any consistent indent), plain / single- / double-quoted scalars,
/// flow sequences of scalars (<c>["a", "b"]</c>), <c>{}</c> and <c>[]</c>, block scalars (<c>|</c>, <c>&gt;</c>),
/// comments, <c>---</c> between documents, anchors on mappings (<c>&amp;name</c>), aliases (<c>*name</c>) and merge
/// keys (<c>&lt;&lt;: *name</c>). Anything else (tabs, tags, duplicate keys, bad indentation, unclosed quotes) is an
/// error with its line, so a file that parses here has an unambiguous structure. Scalars stay strings.
/// Nodes: <see cref="Dictionary{TKey,TValue}"/> (string → object?), <see cref="List{T}"/> of object?, string, null.
/// </summary>
public sealed class MiniYaml
{
    private readonly string _file;
    private readonly List<(int No, int Indent, string Text)> _lines = [];
    private readonly List<int> _realIndent = [];
    private readonly Dictionary<string, object?> _anchors = new(StringComparer.Ordinal);
    private int _pos;

    private MiniYaml(string file) => _file = file;

    /// <summary>Every document of a file.</summary>
    public static List<object?> ParseFile(string path) => Parse(File.ReadAllText(path), Path.GetFileName(path));

    /// <summary>Every document of <paramref name="text"/>.</summary>
    public static List<object?> Parse(string text, string file = "yaml")
    {
        var docs = new List<object?>();
        var chunk = new List<(int, string)>();
        var no = 0;
        foreach (var raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            no++;
            if (raw.TrimEnd() == "---")
            {
                AddDoc();
                continue;
            }

            if (raw.TrimEnd() == "...")
            {
                throw new YamlException(file, no, "document end markers are not used here");
            }

            chunk.Add((no, raw));
        }

        AddDoc();
        return docs;

        void AddDoc()
        {
            var reader = new MiniYaml(file);
            foreach (var (n, line) in chunk)
            {
                reader.AddLine(n, line);
            }

            chunk.Clear();
            if (reader._lines.Count > 0)
            {
                docs.Add(reader.ParseDocument());
            }
        }
    }

    private void AddLine(int no, string raw)
    {
        var indent = 0;
        while (indent < raw.Length && raw[indent] == ' ')
        {
            indent++;
        }

        if (indent < raw.Length && raw[indent] == '\t')
        {
            throw new YamlException(_file, no, "tab in indentation");
        }

        // Lines are kept raw (block scalars need them); blank and comment-only lines are kept as empty markers.
        var content = raw.TrimEnd();
        _realIndent.Add(indent);
        _lines.Add(content.Length == indent || content[indent] == '#' ? (no, -1, content) : (no, indent, content));
    }

    private object? ParseDocument()
    {
        SkipBlank();
        if (_pos >= _lines.Count)
        {
            return null;
        }

        if (_lines[_pos].Indent != 0)
        {
            throw Error(_lines[_pos].No, "a document must start at column 0");
        }

        var node = ParseBlock(0);
        SkipBlank();
        if (_pos < _lines.Count)
        {
            throw Error(_lines[_pos].No, "unexpected indentation");
        }

        return node;
    }

    private void SkipBlank()
    {
        while (_pos < _lines.Count && _lines[_pos].Indent < 0)
        {
            _pos++;
        }
    }

    private object? ParseBlock(int indent)
    {
        SkipBlank();
        var (_, _, text) = _lines[_pos];
        var body = text[indent..];
        return body == "-" || body.StartsWith("- ", StringComparison.Ordinal) ? ParseSequence(indent) : ParseMapping(indent);
    }

    private List<object?> ParseSequence(int indent)
    {
        var list = new List<object?>();
        while (true)
        {
            SkipBlank();
            if (_pos >= _lines.Count || _lines[_pos].Indent < indent)
            {
                return list;
            }

            var (no, lineIndent, text) = _lines[_pos];
            if (lineIndent > indent)
            {
                throw Error(no, "unexpected indentation in a sequence");
            }

            var body = text[indent..];
            if (!(body == "-" || body.StartsWith("- ", StringComparison.Ordinal)))
            {
                return list; // a mapping key at the same indent ends the sequence (compact "key:\n- item" style)
            }

            var rest = body.Length > 1 ? body[2..].TrimStart(' ') : "";
            if (rest.Length == 0)
            {
                _pos++;
                SkipBlank();
                if (_pos >= _lines.Count || _lines[_pos].Indent <= indent)
                {
                    list.Add(null);
                    continue;
                }

                list.Add(ParseBlock(_lines[_pos].Indent));
                continue;
            }

            var itemIndent = indent + (body.Length - rest.Length);
            if (LooksLikeKey(rest))
            {
                // "- key: value" starts a mapping whose keys sit at itemIndent: re-read this line from there.
                _lines[_pos] = (no, itemIndent, text);
                list.Add(ParseMapping(itemIndent));
            }
            else
            {
                _pos++;
                list.Add(ParseInlineValue(no, rest, indent));
            }
        }
    }

    private Dictionary<string, object?> ParseMapping(int indent)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        var explicitKeys = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            SkipBlank();
            if (_pos >= _lines.Count || _lines[_pos].Indent < indent)
            {
                return map;
            }

            var (no, lineIndent, text) = _lines[_pos];
            if (lineIndent > indent)
            {
                throw Error(no, "unexpected indentation in a mapping");
            }

            var body = text[indent..];
            if (body.StartsWith("- ", StringComparison.Ordinal) || body == "-")
            {
                throw Error(no, "a sequence item where a mapping key was expected");
            }

            var (key, rest) = SplitKey(no, body);
            _pos++;
            string? anchor = null;
            if (rest.StartsWith('&'))
            {
                var end = rest.IndexOf(' ');
                anchor = end < 0 ? rest[1..] : rest[1..end];
                rest = end < 0 ? "" : rest[(end + 1)..].TrimStart(' ');
                CheckName(no, anchor);
            }

            object? value;
            if (rest.Length == 0)
            {
                SkipBlank();
                if (_pos < _lines.Count && _lines[_pos].Indent > indent)
                {
                    value = ParseBlock(_lines[_pos].Indent);
                }
                else if (_pos < _lines.Count && _lines[_pos].Indent == indent &&
                         (_lines[_pos].Text[indent..] == "-" || _lines[_pos].Text[indent..].StartsWith("- ", StringComparison.Ordinal)))
                {
                    value = ParseSequence(indent);
                }
                else
                {
                    value = null;
                }
            }
            else
            {
                value = ParseInlineValue(no, rest, indent);
            }

            if (anchor is not null)
            {
                _anchors[anchor] = value;
            }

            if (key == "<<")
            {
                if (value is not Dictionary<string, object?> merged)
                {
                    throw Error(no, "a merge key (<<) needs an alias of a mapping");
                }

                foreach (var (k, v) in merged)
                {
                    if (!explicitKeys.Contains(k))
                    {
                        map[k] = v;
                    }
                }

                continue;
            }

            if (!explicitKeys.Add(key))
            {
                throw Error(no, $"duplicate key '{key}'");
            }

            map[key] = value;
        }
    }

    private object? ParseInlineValue(int no, string rest, int parentIndent)
    {
        rest = StripComment(no, rest);
        if (rest.StartsWith('*'))
        {
            var name = rest[1..];
            CheckName(no, name);
            return _anchors.TryGetValue(name, out var target) ? target : throw Error(no, $"unknown alias *{name}");
        }

        if (rest.StartsWith('!'))
        {
            throw Error(no, "tags are not used here");
        }

        if (rest.StartsWith('&'))
        {
            throw Error(no, "anchors are only used on mapping values here");
        }

        if (rest is "|" or "|-" or "|+" or ">" or ">-" or ">+")
        {
            return ParseBlockScalar(rest, parentIndent);
        }

        if (rest == "{}")
        {
            return new Dictionary<string, object?>(StringComparer.Ordinal);
        }

        if (rest.StartsWith('['))
        {
            return ParseFlowSequence(no, rest);
        }

        if (rest.StartsWith('{'))
        {
            throw Error(no, "flow mappings are not used here (only {})");
        }

        return ParseScalar(no, rest, out var used) is var s && used == rest.Length
            ? s
            : throw Error(no, $"unexpected text after a scalar: '{rest}'");
    }

    private string ParseBlockScalar(string header, int parentIndent)
    {
        // Inside a block scalar a '#' line is content: use the real indentation of every line.
        var lines = new List<string>();
        var blockIndent = -1;
        while (_pos < _lines.Count)
        {
            var (no, _, text) = _lines[_pos];
            var indent = _realIndent[_pos];
            var blank = text.Length == indent;
            if (!blank && indent <= parentIndent)
            {
                break;
            }

            if (!blank && blockIndent < 0)
            {
                blockIndent = indent;
            }
            else if (!blank && indent < blockIndent)
            {
                throw Error(no, "block scalar line less indented than its first line");
            }

            lines.Add(blank ? "" : text[blockIndent..]);
            _pos++;
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        if (lines.Count == 0)
        {
            return "";
        }

        var joined = header[0] == '|' ? string.Join('\n', lines) : string.Join(' ', lines);
        return header.EndsWith('-') ? joined : joined + "\n";
    }

    private List<object?> ParseFlowSequence(int no, string rest)
    {
        var list = new List<object?>();
        var i = 1;
        while (true)
        {
            while (i < rest.Length && rest[i] == ' ')
            {
                i++;
            }

            if (i >= rest.Length)
            {
                throw Error(no, "unclosed [");
            }

            if (rest[i] == ']')
            {
                if (i != rest.Length - 1)
                {
                    throw Error(no, "text after ]");
                }

                return list;
            }

            if (rest[i] is '[' or '{')
            {
                throw Error(no, "nested flow collections are not used here");
            }

            var item = rest[i..];
            var end = item[0] is '"' or '\'' ? -1 : item.IndexOfAny([',', ']']);
            string scalar;
            int used;
            if (end < 0)
            {
                scalar = ParseScalar(no, item, out used) ?? "";
            }
            else
            {
                scalar = item[..end].TrimEnd();
                used = end;
                if (scalar.Length == 0)
                {
                    throw Error(no, "empty item in [ ]");
                }
            }

            list.Add(scalar);
            i += used;
            while (i < rest.Length && rest[i] == ' ')
            {
                i++;
            }

            if (i < rest.Length && rest[i] == ',')
            {
                i++;
            }
            else if (i >= rest.Length || rest[i] != ']')
            {
                throw Error(no, "expected , or ] in a flow sequence");
            }
        }
    }

    /// <summary>A scalar at the start of <paramref name="s"/>; <paramref name="used"/> = characters consumed.</summary>
    private string? ParseScalar(int no, string s, out int used)
    {
        if (s[0] == '\'')
        {
            var sb = new StringBuilder();
            for (var i = 1; i < s.Length; i++)
            {
                if (s[i] == '\'')
                {
                    if (i + 1 < s.Length && s[i + 1] == '\'')
                    {
                        sb.Append('\'');
                        i++;
                        continue;
                    }

                    used = i + 1;
                    return sb.ToString();
                }

                sb.Append(s[i]);
            }

            throw Error(no, "unclosed single quote");
        }

        if (s[0] == '"')
        {
            var sb = new StringBuilder();
            for (var i = 1; i < s.Length; i++)
            {
                var c = s[i];
                if (c == '"')
                {
                    used = i + 1;
                    return sb.ToString();
                }

                if (c == '\\')
                {
                    if (++i >= s.Length)
                    {
                        break;
                    }

                    sb.Append(s[i] switch
                    {
                        'n' => '\n',
                        't' => '\t',
                        '"' => '"',
                        '\\' => '\\',
                        '/' => '/',
                        _ => throw Error(no, $"escape \\{s[i]} is not used here"),
                    });
                    continue;
                }

                sb.Append(c);
            }

            throw Error(no, "unclosed double quote");
        }

        if (s[0] is '@' or '`' or '%' or '|' or '>' || (s[0] is '-' or '?' or ':' && s.Length > 1 && s[1] == ' '))
        {
            throw Error(no, $"a plain scalar cannot start with '{s[0]}'");
        }

        if (s.Contains(": ", StringComparison.Ordinal) || s.EndsWith(':'))
        {
            throw Error(no, $"': ' inside a plain scalar is ambiguous, quote it: '{s}'");
        }

        used = s.Length;
        return s == "~" || s == "null" ? null : s;
    }

    private (string Key, string Value) SplitKey(int no, string body)
    {
        string key;
        int after;
        if (body[0] is '"' or '\'')
        {
            key = ParseScalar(no, body, out after) ?? "";
        }
        else
        {
            var colon = body.IndexOf(':');
            while (colon >= 0 && colon + 1 < body.Length && body[colon + 1] != ' ')
            {
                colon = body.IndexOf(':', colon + 1);
            }

            if (colon <= 0)
            {
                throw Error(no, $"expected 'key: value', got '{body}'");
            }

            key = body[..colon];
            after = colon;
            if (key.Contains(" #", StringComparison.Ordinal) || key.StartsWith('{') || key.StartsWith('['))
            {
                throw Error(no, $"bad key '{key}'");
            }
        }

        if (after >= body.Length || body[after] != ':')
        {
            throw Error(no, $"expected ':' after key '{key}'");
        }

        var rest = body[(after + 1)..];
        if (rest.Length > 0 && rest[0] != ' ')
        {
            throw Error(no, $"expected a space after '{key}:'");
        }

        return (key, StripComment(no, rest.Trim(' ')));
    }

    private static bool LooksLikeKey(string s)
    {
        if (s[0] is '"' or '\'')
        {
            var close = s.IndexOf(s[0], 1);
            return close > 0 && close + 1 < s.Length && s[close + 1] == ':';
        }

        return s[0] is not ('[' or '{' or '*' or '&' or '|' or '>') &&
               (s.IndexOf(": ", StringComparison.Ordinal) > 0 || (s.EndsWith(':') && !s.Contains(' ')));
    }

    private string StripComment(int no, string rest)
    {
        // A comment starts at " #" outside quotes.
        var quote = '\0';
        for (var i = 0; i < rest.Length; i++)
        {
            var c = rest[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else if (c == '\\' && quote == '"')
                {
                    i++;
                }

                continue;
            }

            if ((c is '"' or '\'') && (i == 0 || rest[i - 1] is ' ' or '[' or ','))
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || rest[i - 1] == ' '))
            {
                return rest[..i].TrimEnd(' ');
            }
        }

        return rest;
    }

    private void CheckName(int no, string name)
    {
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw Error(no, $"bad anchor or alias name '{name}'");
        }
    }

    private YamlException Error(int line, string message) => new(_file, line, message);
}

/// <summary>Navigation helpers over MiniYaml nodes, failing with the path when the shape is wrong.</summary>
public static class Yaml
{
    public static Dictionary<string, object?> Map(object? node, string path) =>
        node as Dictionary<string, object?> ?? throw new Xunit.Sdk.XunitException($"{path}: expected a mapping, got {Describe(node)}");

    public static List<object?> Seq(object? node, string path) =>
        node as List<object?> ?? throw new Xunit.Sdk.XunitException($"{path}: expected a sequence, got {Describe(node)}");

    public static string Str(object? node, string path) =>
        node as string ?? throw new Xunit.Sdk.XunitException($"{path}: expected a scalar, got {Describe(node)}");

    /// <summary>Follows dot-separated keys (a key may itself contain '/').</summary>
    public static object? At(object? node, string path)
    {
        var current = node;
        var walked = "";
        foreach (var key in path.Split('.'))
        {
            walked = walked.Length == 0 ? key : walked + "." + key;
            var map = Map(current, walked);
            if (!map.TryGetValue(key, out current))
            {
                throw new Xunit.Sdk.XunitException($"missing {walked}");
            }
        }

        return current;
    }

    public static object? TryAt(object? node, string path)
    {
        var current = node;
        foreach (var key in path.Split('.'))
        {
            if (current is not Dictionary<string, object?> map || !map.TryGetValue(key, out current))
            {
                return null;
            }
        }

        return current;
    }

    private static string Describe(object? node) => node switch
    {
        null => "null",
        string s => $"scalar '{s}'",
        List<object?> => "a sequence",
        _ => "a mapping",
    };
}
