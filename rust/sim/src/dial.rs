//! Dial strings as `switch_ivr_originate` reads them: `<>` and `{}` blocks for every leg,
//! `[]` per leg, `,` for simultaneous legs, `|` for sequential failover groups, with the
//! escaping rules of `switch_event_create_brackets` (`\,`, `'quotes'`, `^^X` delimiter).

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
    /// Parses a dial string; `None` when a bracket is not closed or no leg is left.
    pub fn parse(input: &str) -> Option<DialString> {
        let mut rest = input.trim();
        let mut globals = Vec::new();
        while let Some(open) = rest.chars().next().filter(|c| *c == '{' || *c == '<') {
            let close = if open == '{' { '}' } else { '>' };
            let end = find_close(rest, open, close)?;
            globals.extend(parse_vars(&rest[1..end]));
            rest = rest[end + 1..].trim_start();
        }
        let mut groups = Vec::new();
        for group in split_top_level(rest, '|') {
            let mut legs = Vec::new();
            for leg in split_top_level(&group, ',') {
                let mut leg_rest = leg.trim();
                let mut locals = Vec::new();
                while leg_rest.starts_with('[') {
                    let end = find_close(leg_rest, '[', ']')?;
                    locals.extend(parse_vars(&leg_rest[1..end]));
                    leg_rest = leg_rest[end + 1..].trim_start();
                }
                if !leg_rest.is_empty() {
                    legs.push(DialLeg {
                        locals,
                        target: leg_rest.to_string(),
                    });
                }
            }
            if !legs.is_empty() {
                groups.push(legs);
            }
        }
        if groups.is_empty() {
            None
        } else {
            Some(DialString { globals, groups })
        }
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

/// Index of the bracket closing the one at position 0, skipping quoted and escaped parts.
fn find_close(s: &str, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '\'' {
            quoted = !quoted;
        } else if !quoted && c == open {
            depth += 1;
        } else if !quoted && c == close {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Splits on `sep` outside brackets, quotes and escapes.
fn split_top_level(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '\'' {
            quoted = !quoted;
        } else if !quoted && matches!(c, '[' | '{' | '<') {
            depth += 1;
        } else if !quoted && matches!(c, ']' | '}' | '>') {
            depth -= 1;
        } else if !quoted && depth == 0 && c == sep {
            parts.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

/// `name=value` pairs split on the delimiter (`,` or the `^^X` one) with quotes stripped
/// and `\,` `\'` `\"` `\\` `\n` `\r` `\t` unescaped.
fn parse_vars(block: &str) -> Vec<(String, String)> {
    let (delimiter, body) = match block.strip_prefix("^^") {
        Some(rest) => match rest.chars().next() {
            Some(d) => (d, &rest[d.len_utf8()..]),
            None => (',', ""),
        },
        None => (',', block),
    };
    let mut vars = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = body.chars();
    let mut finish = |current: &mut String| {
        let item = std::mem::take(current);
        if let Some((name, value)) = item.split_once('=') {
            let name = name.trim();
            if !name.is_empty() {
                vars.push((name.to_string(), value.to_string()));
            }
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => current.push('\n'),
                Some('r') => current.push('\r'),
                Some('t') => current.push('\t'),
                Some(other) => current.push(other),
                None => current.push('\\'),
            },
            '\'' => quoted = !quoted,
            c if c == delimiter && !quoted => finish(&mut current),
            c => current.push(c),
        }
    }
    finish(&mut current);
    vars
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
        assert_eq!(DialString::parse("{a=1}"), None);
        assert_eq!(DialString::parse(""), None);
    }
}
