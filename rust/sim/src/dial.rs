//! Dial strings as FreeSWITCH takes them apart, layer by layer, each layer consuming one level of
//! quoting and escaping (esl-protocol.md §3.4):
//!
//! 1. the `originate` API splits its argument line on blanks ([`originate_api_args`]);
//!    `sendmsg execute bridge` has no such layer;
//! 2. `switch_ivr_originate` parses the leading `<>` and `{}` blocks with
//!    `switch_event_create_brackets` (`,` or a `^^X` delimiter, then the first `=`);
//! 3. the rest is split on `|` (failover groups), commas inside `[]` are pre-marked, then it is
//!    split on `,` (simultaneous legs);
//! 4. each leg's `[]` blocks are parsed like `{}` with the pre-marked commas as delimiter.
//!
//! Every split is `switch_separate_string` (quotes protect the delimiter, `\` skips a character),
//! and every piece is cleaned by `cleanup_separated_string` (leading blanks and unquoted trailing
//! blanks dropped, quotes stripped, `\'` `\"` `\\` `\<delimiter>` `\n` `\r` `\t` `\s` unescaped).
//! Written from fs:src/switch_utils.c, switch_event.c, switch_ivr_originate.c and mod_commands.c.

/// What `switch_ivr_originate` turns a comma inside a quoted or `^^` `[]` block into.
const QUOTED_ESC_COMMA: char = '\u{1}';
/// What it turns any other comma inside a `[]` block into; the block's delimiter.
const UNQUOTED_ESC_COMMA: char = '\u{2}';
/// `MAX_PEERS`: the most groups, or legs per group, a split keeps.
const MAX_PEERS: usize = 128;
/// `var_array` of `switch_event_create_brackets`: the most variables per block.
const MAX_BLOCK_VARS: usize = 1024;
/// `argv` of the `originate` API.
const ORIGINATE_API_ARGS: usize = 10;

/// A parsed dial string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialString {
    /// Variables of the `<>` and `{}` blocks, in order (later ones win).
    pub globals: Vec<(String, String)>,
    /// `|`-separated failover groups of `,`-separated simultaneous legs.
    pub groups: Vec<Vec<DialLeg>>,
}

/// One leg of a dial string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialLeg {
    /// Variables of the leg's `[]` blocks.
    pub locals: Vec<(String, String)>,
    /// The endpoint, e.g. `user/1000` or `loopback/answer/default`.
    pub target: String,
}

impl DialString {
    /// Parses a dial string as `switch_ivr_originate` does (the `bridge` application's argument,
    /// or the first `originate` API argument after [`originate_api_args`]); `None` where
    /// FreeSWITCH reports a parse error or nothing to dial.
    pub fn parse(input: &str) -> Option<DialString> {
        let mut data: Vec<char> = input.chars().collect();
        strip_leading_blanks(&mut data);
        let mut globals = Vec::new();
        for (open, close) in [('<', '>'), ('{', '}')] {
            while data.first() == Some(&open) {
                data = brackets(&data, open, close, ',', &mut globals)?;
            }
        }
        strip_leading_blanks(&mut data);
        if data.is_empty() {
            return None;
        }
        let mut groups = Vec::new();
        for group in separate(&data, '|', MAX_PEERS) {
            let marked = mark_bracket_commas(group.chars().collect());
            let mut legs = Vec::new();
            for leg in separate(&marked, ',', MAX_PEERS) {
                let mut rest: Vec<char> = leg.chars().collect();
                strip_leading_blanks(&mut rest);
                let mut locals = Vec::new();
                while rest.first() == Some(&'[') {
                    let end = find_end_paren(&rest, '[', ']').unwrap_or(rest.len());
                    for c in &mut rest[..end] {
                        if *c == QUOTED_ESC_COMMA {
                            *c = ',';
                        }
                    }
                    rest = brackets(&rest, '[', ']', UNQUOTED_ESC_COMMA, &mut locals)?;
                }
                strip_leading_blanks(&mut rest);
                legs.push(DialLeg {
                    locals,
                    target: rest.into_iter().collect(),
                });
            }
            groups.push(legs);
        }
        Some(DialString { globals, groups })
    }

    /// The effective value of a variable for one leg: `{}` is installed after `[]`, so it
    /// wins, unless `local_var_clobber=true` makes `[]` win (switch_ivr_originate.c).
    pub fn leg_var<'a>(&'a self, leg: &'a DialLeg, name: &str) -> Option<&'a str> {
        let global = last_value(&self.globals, name);
        let local = last_value(&leg.locals, name);
        if last_value(&self.globals, "local_var_clobber").is_some_and(is_true) {
            local.or(global)
        } else {
            global.or(local)
        }
    }

    /// A `{}`/`<>` variable.
    pub fn global_var(&self, name: &str) -> Option<&str> {
        last_value(&self.globals, name)
    }
}

/// The `originate` API's split of its argument line (mod_commands.c `originate_function`):
/// blanks separate, single quotes protect blanks and are stripped, `\\` `\'` `\"` `\n` `\r`
/// `\t` `\s` are unescaped; the tenth argument keeps the rest of the line.
pub fn originate_api_args(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    separate(&chars, ' ', ORIGINATE_API_ARGS)
}

/// `switch_separate_string` of an API argument: at most `max` pieces, the last keeps the rest.
pub(crate) fn separate_string(text: &str, delimiter: char, max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    separate(&chars, delimiter, max)
}

/// `switch_true`: "true", "yes", "on", "enabled", "active", "allow", or a non-zero number.
pub fn is_true(value: &str) -> bool {
    let v = value.trim();
    ["true", "yes", "on", "enabled", "active", "allow", "t"]
        .iter()
        .any(|t| v.eq_ignore_ascii_case(t))
        || v.parse::<i64>().is_ok_and(|n| n != 0)
}

fn last_value<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn strip_leading_blanks(data: &mut Vec<char>) {
    let blanks = data.iter().take_while(|c| **c == ' ').count();
    data.drain(..blanks);
}

/// `switch_find_end_paren`: index of the bracket closing the one that opens `s` (after blanks);
/// quotes and escapes are not looked at.
fn find_end_paren(s: &[char], open: char, close: char) -> Option<usize> {
    let start = s.iter().position(|c| *c != ' ')?;
    if s[start] != open {
        return None;
    }
    let mut depth = 1usize;
    for (i, c) in s.iter().enumerate().skip(start + 1) {
        if *c == open && open != close {
            depth += 1;
        } else if *c == close {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// `switch_event_create_brackets` on the block opening `data`: adds its `name=value` pairs to
/// `into` and returns what follows the block; `None` when the block is not closed.
fn brackets(
    data: &[char],
    open: char,
    close: char,
    delimiter: char,
    into: &mut Vec<(String, String)>,
) -> Option<Vec<char>> {
    let end = find_end_paren(data, open, close)?;
    let mut content = &data[1..end];
    let mut delimiter = delimiter;
    if let ['^', '^', custom, rest @ ..] = content {
        delimiter = *custom;
        content = rest;
    }
    for item in separate(content, delimiter, MAX_BLOCK_VARS) {
        let item: Vec<char> = item.chars().collect();
        if let [name, value] = separate(&item, '=', 2).as_slice() {
            if !name.is_empty() {
                into.push((name.clone(), value.clone()));
            }
        }
    }
    Some(data[end + 1..].to_vec())
}

/// The pass of `switch_ivr_originate` over one failover group before the leg split: commas
/// inside `[]` blocks (not after `\`) become [`QUOTED_ESC_COMMA`] when quoted or in a `^^`
/// block, else [`UNQUOTED_ESC_COMMA`], so the `,` split leaves them alone.
fn mark_bracket_commas(mut group: Vec<char>) -> Vec<char> {
    let mut end: Option<usize> = None;
    let mut quoted = false;
    let mut alt = false;
    for p in 0..group.len() {
        if group[p] == '[' {
            end = find_end_paren(&group[p..], '[', ']').map(|e| p + e);
            alt = group.get(p + 1) == Some(&'^') && group.get(p + 2) == Some(&'^');
            quoted = false;
        }
        if group[p] == '\'' {
            quoted = !quoted;
        }
        let escaped = p > 0 && group[p - 1] == '\\';
        if end.is_some_and(|e| p < e) && group[p] == ',' && !escaped {
            group[p] = if quoted || alt {
                QUOTED_ESC_COMMA
            } else {
                UNQUOTED_ESC_COMMA
            };
        }
        if end == Some(p) {
            end = None;
        }
    }
    group
}

/// `switch_separate_string`: a leading `^^X` (with something after it) makes `X` the delimiter;
/// at most `max` pieces, the last one keeps the rest; each piece is cleaned up.
fn separate(buf: &[char], delimiter: char, max: usize) -> Vec<String> {
    let (buf, delimiter) = match buf {
        ['^', '^', custom, rest @ ..] if !rest.is_empty() => (rest, *custom),
        _ => (buf, delimiter),
    };
    if delimiter == ' ' {
        separate_blank(buf, max)
            .into_iter()
            .map(|piece| cleanup(piece, None))
            .collect()
    } else {
        separate_char(buf, delimiter, max)
            .into_iter()
            .map(|piece| cleanup(piece, Some(delimiter)))
            .collect()
    }
}

/// `separate_string_char_delim`: a quote toggles quoting only when it closes one or another
/// quote follows; `\` skips the next character.
fn separate_char(buf: &[char], delimiter: char, max: usize) -> Vec<&[char]> {
    let mut pieces = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    while start < buf.len() {
        if pieces.len() + 1 == max {
            pieces.push(&buf[start..]);
            break;
        }
        let end = scan_to_delimiter(buf, start, delimiter, &mut quoted);
        pieces.push(&buf[start..end]);
        start = end + 1;
    }
    pieces
}

/// Index of the next unquoted, unescaped `delimiter` from `from` (or the end).
fn scan_to_delimiter(buf: &[char], from: usize, delimiter: char, quoted: &mut bool) -> usize {
    let mut p = from;
    while p < buf.len() {
        let c = buf[p];
        if c == '\\' {
            p += 1;
        } else if c == '\'' && (*quoted || buf[p + 1..].contains(&'\'')) {
            *quoted = !*quoted;
        } else if c == delimiter && !*quoted {
            return p;
        }
        p += 1;
    }
    buf.len()
}

/// `separate_string_blank_delim`: runs of blanks separate, any quote toggles quoting, `\`
/// skips the next character.
fn separate_blank(buf: &[char], max: usize) -> Vec<&[char]> {
    let mut pieces = Vec::new();
    let mut quoted = false;
    let mut p = 0;
    while p < buf.len() && pieces.len() < max {
        let start = p;
        while p < buf.len() && buf[p] == ' ' {
            p += 1;
        }
        if pieces.len() + 1 == max {
            pieces.push(&buf[start..]);
            break;
        }
        let mut end = buf.len();
        while p < buf.len() {
            let c = buf[p];
            if c == '\\' {
                p += 1;
            } else if c == '\'' {
                quoted = !quoted;
            } else if c == ' ' && !quoted {
                end = p;
                p += 1;
                break;
            }
            p += 1;
        }
        pieces.push(&buf[start..end.min(buf.len())]);
        while p < buf.len() && buf[p] == ' ' {
            p += 1;
        }
    }
    pieces
}

/// `unescape_char`.
fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        's' => ' ',
        other => other,
    }
}

/// `cleanup_separated_string`: drops leading blanks and unquoted trailing blanks, strips
/// quotes (a lone one stays), unescapes `\'` `\"` `\\` `\<delimiter>` and `\n` `\r` `\t` `\s`;
/// any other `\` stays.
fn cleanup(piece: &[char], delimiter: Option<char>) -> String {
    let mut p = piece.iter().take_while(|c| **c == ' ').count();
    let mut out = String::new();
    let mut end: Option<usize> = None;
    let mut quoted = false;
    while p < piece.len() {
        let c = piece[p];
        if c == '\\' {
            if let Some(&next) = piece.get(p + 1) {
                let literal =
                    next == '\'' || next == '"' || Some(next) == delimiter || next == '\\';
                if literal || unescape(next) != next {
                    out.push(if literal { next } else { unescape(next) });
                    end = Some(out.len());
                    p += 2;
                    continue;
                }
            }
        }
        if c == '\'' && (quoted || piece[p + 1..].contains(&'\'')) {
            quoted = !quoted;
            if quoted {
                end = Some(out.len());
            }
        } else {
            out.push(c);
            if c != ' ' || quoted {
                end = Some(out.len());
            }
        }
        p += 1;
    }
    if let Some(end) = end {
        out.truncate(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// `{k=v;…} [k=v;…]target, … | …`: the parse in one line, for table tests.
    fn render(dial: &DialString) -> String {
        let block = |vars: &[(String, String)]| {
            vars.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(";")
        };
        let groups: Vec<String> = dial
            .groups
            .iter()
            .map(|legs| {
                legs.iter()
                    .map(|leg| format!("[{}]{}", block(&leg.locals), leg.target))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect();
        format!("{{{}}} {}", block(&dial.globals), groups.join(" | "))
    }

    fn through_api(line: &str) -> String {
        let args = originate_api_args(line);
        render(&DialString::parse(&args[0]).expect("parses"))
    }

    fn through_bridge(dial: &str) -> String {
        render(&DialString::parse(dial).expect("parses"))
    }

    /// Expectations worked out from the C (switch_utils.c, switch_event.c,
    /// switch_ivr_originate.c) and cross-checked against the Java port of the same code in
    /// java/src/test/java/org/esl4j/dial/FreeSwitchDialModel.java (which agrees on every row).
    #[test]
    fn values_survive_each_layer_like_freeswitch() {
        let api = [
            (r"{x=a\\,b}user/1000 &park", "{x=a,b} []user/1000"),
            (r"{x='a,b'}user/1000 &park", "{x=a} []user/1000"),
            (
                r"'{^^:x=a b:y=c}user/1000' &park",
                "{x=a b;y=c} []user/1000",
            ),
            (r"{x=a\\\\,b}user/1 &park", r"{x=a\} []user/1"),
            (r"[x=a\\\\,b]user/1 &park", "{} [x=a,b]user/1"),
            (r"{x=\\'a\\'}user/1 &park", r"{x=\a\} []user/1"),
        ];
        for (line, expected) in api {
            assert_eq!(through_api(line), expected, "originate {line}");
        }
        let bridge = [
            (r"{x='a,b'}user/1000", "{x=a,b} []user/1000"),
            (r"{x='a b',y=k=v=w}user/1000", "{x=a b;y=k=v=w} []user/1000"),
            (r"{x=\'q\'}user/1", "{x=q} []user/1"),
            (r"{x=\\\'q\\\'}user/1", "{x='q'} []user/1"),
            (
                "{x=héllo wörld ☎,y='ü,ß'}user/1",
                "{x=héllo wörld ☎;y=ü,ß} []user/1",
            ),
            (
                r"[x=a\,b]user/1,[y=c]user/2",
                "{} [x=a,b]user/1, [y=c]user/2",
            ),
            (r"[x='a,b']user/1", "{} [x=a]user/1"),
            (
                "[^^:x=a,b:y=c]user/1|user/2",
                "{} [x=a,b;y=c]user/1 | []user/2",
            ),
            ("{a=1}{b=2}user/1", "{a=1;b=2} []user/1"),
            (r"{x\=y=1}user/1", "{x=y=1} []user/1"),
            ("{x=a ,y= b}user/1", "{x=a;y=b} []user/1"),
            (r"{x=a\sb}user/1", "{x=a b} []user/1"),
            (r"{x=a\\,b}user/1", r"{x=a\} []user/1"),
            (r"[x=a\\,b]user/1", "{} [x=a,b]user/1"),
            (
                "<u=1>{x=2}[y=3]a/1,[z='p q']b/2",
                "{u=1;x=2} [y=3]a/1, [z=p q]b/2",
            ),
        ];
        for (dial, expected) in bridge {
            assert_eq!(through_bridge(dial), expected, "bridge {dial}");
        }
    }

    /// A quote with no partner is kept by `cleanup_separated_string` (current FreeSWITCH; the
    /// Java port strips it and gets `ab`).
    #[test]
    fn a_lone_quote_stays() {
        assert_eq!(through_api(r"{x=a\'b}user/1 &park"), "{x=a'b} []user/1");
        // an apostrophe through the API: the blank and comma layers each take a `\\`, the `=`
        // layer turns the `\'` left into `'`
        assert_eq!(
            through_api(r"{q=it\\\\\'s}user/1 &park"),
            "{q=it's} []user/1"
        );
    }

    #[test]
    fn double_quotes_are_not_quotes() {
        assert_eq!(
            through_bridge(r#"{q=it\\\'s,r="x y"}user/1"#),
            r#"{q=it's;r="x y"} []user/1"#
        );
    }

    #[test]
    fn api_arguments_split_on_blanks_and_keep_the_rest_in_the_tenth() {
        assert_eq!(
            originate_api_args("  {x='a b'}user/1   &park()  "),
            vec!["{x=a b}user/1", "&park()"]
        );
        let many = originate_api_args("1 2 3 4 5 6 7 8 9 10 11");
        assert_eq!(many.len(), 10);
        assert_eq!(many[9], "10 11");
    }

    #[test]
    fn a_blank_between_blocks_ends_the_variables() {
        // only `while (*data == '{')`: the blank stops it and the rest is the endpoint
        assert_eq!(through_bridge("{a=1} {b=2}user/1"), "{a=1} []{b=2}user/1");
    }

    #[test]
    fn parses_blocks_groups_and_legs() {
        let d = DialString::parse(
            "<u=1>{originate_timeout=11}[leg_timeout=9]a/1,b/2|[leg_timeout=5]c/3",
        )
        .expect("parses");
        assert_eq!(d.globals, vars(&[("u", "1"), ("originate_timeout", "11")]));
        assert_eq!(d.groups.len(), 2);
        assert_eq!(d.groups[0].len(), 2);
        assert_eq!(d.groups[0][0].target, "a/1");
        assert_eq!(d.groups[0][0].locals, vars(&[("leg_timeout", "9")]));
        assert_eq!(d.groups[0][1].locals, vec![]);
        assert_eq!(d.groups[1][0].target, "c/3");
    }

    #[test]
    fn global_overrides_local_unless_clobber() {
        let d = DialString::parse("{leg_timeout=3}[leg_timeout=9]x/1").expect("parses");
        assert_eq!(d.leg_var(&d.groups[0][0], "leg_timeout"), Some("3"));
        let d = DialString::parse("{leg_timeout=3,local_var_clobber=true}[leg_timeout=9]x/1")
            .expect("parses");
        assert_eq!(d.leg_var(&d.groups[0][0], "leg_timeout"), Some("9"));
    }

    #[test]
    fn escaping_quotes_and_custom_delimiter() {
        let d = DialString::parse(r"{a=x\,y,b='p,q',c=1=2}[^^:h=a,b:t=2]x/1").expect("parses");
        assert_eq!(d.globals, vars(&[("a", "x,y"), ("b", "p,q"), ("c", "1=2")]));
        assert_eq!(d.groups[0][0].locals, vars(&[("h", "a,b"), ("t", "2")]));
        assert_eq!(d.groups.len(), 1);
        assert_eq!(d.groups[0].len(), 1);
    }

    #[test]
    fn rejects_unclosed_and_empty() {
        assert_eq!(DialString::parse("{a=1 user/1"), None);
        assert_eq!(DialString::parse("[a=1 user/1"), None);
        assert_eq!(DialString::parse("{a=1}"), None);
        assert_eq!(DialString::parse(""), None);
    }
}
