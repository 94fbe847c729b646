//! A small backtracking regular-expression matcher for `filter <header> /regex/[i]`, enough for
//! the patterns event filters use (PCRE's common subset): literals, `.`, classes `[a-z]`
//! `[^…]`, `\d` `\w` `\s` (and their negations), `^` `$`, groups with `|`, and the greedy
//! quantifiers `*` `+` `?` `{n}` `{n,}` `{n,m}`. Unanchored, like `switch_regex_perform`.
//! A step budget bounds the work on pathological patterns (no match when it runs out).

use std::cell::Cell;

/// Work allowed for one match attempt over the whole input.
const STEP_BUDGET: usize = 200_000;
/// The largest `{n,m}` bound accepted.
const MAX_REPEAT: usize = 1000;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Regex {
    alternatives: Vec<Vec<Node>>,
    caseless: bool,
}

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Any,
    Class {
        items: Vec<ClassItem>,
        negated: bool,
    },
    Start,
    End,
    Group(Vec<Vec<Node>>),
    Repeat {
        node: Box<Node>,
        min: usize,
        max: usize,
    },
}

#[derive(Debug, Clone)]
enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

impl ClassItem {
    fn matches(&self, c: char) -> bool {
        match *self {
            ClassItem::Range(lo, hi) => lo <= c && c <= hi,
            ClassItem::Digit(want) => c.is_ascii_digit() == want,
            ClassItem::Word(want) => (c.is_alphanumeric() || c == '_') == want,
            ClassItem::Space(want) => c.is_whitespace() == want,
        }
    }
}

impl Regex {
    /// Compiles a filter value `/pattern/flags` (flag `i`: ignore case); `None` when the pattern
    /// does not parse.
    pub(crate) fn from_filter(value: &str) -> Option<Regex> {
        let body = value.strip_prefix('/')?;
        let (pattern, flags) = match body.rfind('/') {
            Some(end) => (&body[..end], &body[end + 1..]),
            None => (body, ""),
        };
        let chars: Vec<char> = pattern.chars().collect();
        let mut parser = Parser {
            chars: &chars,
            pos: 0,
        };
        let alternatives = parser.alternatives()?;
        if parser.pos != chars.len() {
            return None;
        }
        Some(Regex {
            alternatives,
            caseless: flags.contains('i'),
        })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let lowered;
        let input: Vec<char> = if self.caseless {
            lowered = text.to_lowercase();
            lowered.chars().collect()
        } else {
            text.chars().collect()
        };
        let matcher = Matcher {
            input: &input,
            caseless: self.caseless,
            steps: Cell::new(0),
        };
        let whole = Node::Group(self.alternatives.clone());
        (0..=input.len()).any(|start| matcher.node(&whole, &[], start, &mut |_| true))
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn alternatives(&mut self) -> Option<Vec<Vec<Node>>> {
        let mut alternatives = vec![self.sequence()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            alternatives.push(self.sequence()?);
        }
        Some(alternatives)
    }

    fn sequence(&mut self) -> Option<Vec<Node>> {
        let mut nodes = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            nodes.push(self.quantified(atom)?);
        }
        Some(nodes)
    }

    fn atom(&mut self) -> Option<Node> {
        Some(match self.next()? {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                // `(?:` is the same group here: nothing captures
                if self.chars[self.pos..].starts_with(&['?', ':']) {
                    self.pos += 2;
                }
                let inner = self.alternatives()?;
                (self.next()? == ')').then_some(())?;
                Node::Group(inner)
            }
            '[' => self.class()?,
            '\\' => match self.escape()? {
                Escaped::Literal(c) => Node::Char(c),
                Escaped::Class(item) => Node::Class {
                    items: vec![item],
                    negated: false,
                },
            },
            '*' | '+' | '?' | ')' => return None,
            c => Node::Char(c),
        })
    }

    fn escape(&mut self) -> Option<Escaped> {
        Some(match self.next()? {
            'd' => Escaped::Class(ClassItem::Digit(true)),
            'D' => Escaped::Class(ClassItem::Digit(false)),
            'w' => Escaped::Class(ClassItem::Word(true)),
            'W' => Escaped::Class(ClassItem::Word(false)),
            's' => Escaped::Class(ClassItem::Space(true)),
            'S' => Escaped::Class(ClassItem::Space(false)),
            'n' => Escaped::Literal('\n'),
            'r' => Escaped::Literal('\r'),
            't' => Escaped::Literal('\t'),
            c => Escaped::Literal(c),
        })
    }

    fn class(&mut self) -> Option<Node> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let c = self.next()?;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = match c {
                '\\' => match self.escape()? {
                    Escaped::Class(item) => {
                        items.push(item);
                        continue;
                    }
                    Escaped::Literal(c) => c,
                },
                c => c,
            };
            let is_range = self.peek() == Some('-') && self.chars.get(self.pos + 1) != Some(&']');
            if is_range {
                self.pos += 1;
                let hi = match self.next()? {
                    '\\' => match self.escape()? {
                        Escaped::Literal(c) => c,
                        Escaped::Class(_) => return None,
                    },
                    c => c,
                };
                items.push(ClassItem::Range(lo, hi));
            } else {
                items.push(ClassItem::Range(lo, lo));
            }
        }
        Some(Node::Class { items, negated })
    }

    fn quantified(&mut self, atom: Node) -> Option<Node> {
        let (min, max) = match self.peek() {
            Some('*') => (0, usize::MAX),
            Some('+') => (1, usize::MAX),
            Some('?') => (0, 1),
            Some('{') => match self.braces() {
                Some(bounds) => bounds,
                None => return Some(atom),
            },
            _ => return Some(atom),
        };
        self.pos += 1; // the quantifier, or the closing brace
        if matches!(atom, Node::Start | Node::End) {
            return None;
        }
        Some(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    /// `{n}`, `{n,}`, `{n,m}` after the current position (left on the closing brace); `None`
    /// (and nothing consumed) when it is not one, so the brace is a literal as in PCRE.
    fn braces(&mut self) -> Option<(usize, usize)> {
        let rest: String = self.chars[self.pos + 1..].iter().collect();
        let close = rest.find('}')?;
        let inside = &rest[..close];
        let number = |s: &str| {
            s.parse::<usize>()
                .ok()
                .filter(|n| *n <= MAX_REPEAT && !s.is_empty())
        };
        let (min, max) = match inside.split_once(',') {
            None => {
                let n = number(inside)?;
                (n, n)
            }
            Some((lo, "")) => (number(lo)?, usize::MAX),
            Some((lo, hi)) => (number(lo)?, number(hi)?),
        };
        if min > max {
            return None;
        }
        self.pos += inside.chars().count() + 1;
        Some((min, max))
    }
}

enum Escaped {
    Literal(char),
    Class(ClassItem),
}

struct Matcher<'a> {
    /// The text, lower-cased when matching ignores case.
    input: &'a [char],
    caseless: bool,
    steps: Cell<usize>,
}

impl Matcher<'_> {
    /// Matches `node` then `rest` at `pos`, calling `done` with the end of each way through.
    fn node(
        &self,
        node: &Node,
        rest: &[Node],
        pos: usize,
        done: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        self.steps.set(self.steps.get() + 1);
        if self.steps.get() > STEP_BUDGET {
            return false;
        }
        match node {
            Node::Char(_) | Node::Any | Node::Class { .. } => match self.input.get(pos) {
                Some(&c) if self.single(node, c) => self.seq(rest, pos + 1, done),
                _ => false,
            },
            Node::Start => pos == 0 && self.seq(rest, pos, done),
            Node::End => pos == self.input.len() && self.seq(rest, pos, done),
            Node::Group(alternatives) => alternatives
                .iter()
                .any(|alt| self.seq(alt, pos, &mut |p| self.seq(rest, p, done))),
            Node::Repeat { node, min, max } => self.repeat(node, (*min, *max), 0, rest, pos, done),
        }
    }

    fn single(&self, node: &Node, c: char) -> bool {
        match node {
            Node::Char(want) => self.fold(*want) == c,
            Node::Any => c != '\n',
            Node::Class { items, negated } => {
                let upper = c.to_uppercase().next().unwrap_or(c);
                let hit = items
                    .iter()
                    .any(|item| item.matches(c) || (self.caseless && item.matches(upper)));
                hit != *negated
            }
            _ => false,
        }
    }

    fn fold(&self, c: char) -> char {
        if self.caseless {
            c.to_lowercase().next().unwrap_or(c)
        } else {
            c
        }
    }

    fn seq(&self, nodes: &[Node], pos: usize, done: &mut dyn FnMut(usize) -> bool) -> bool {
        match nodes.split_first() {
            None => done(pos),
            Some((first, rest)) => self.node(first, rest, pos, done),
        }
    }

    /// Greedy repetition: one more first, then stop; a repetition that consumed nothing ends
    /// the loop.
    fn repeat(
        &self,
        node: &Node,
        (min, max): (usize, usize),
        count: usize,
        rest: &[Node],
        pos: usize,
        done: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        if count < max {
            let more = self.node(node, &[], pos, &mut |p| {
                p != pos && self.repeat(node, (min, max), count + 1, rest, p, done)
            });
            if more {
                return true;
            }
        }
        count >= min && self.seq(rest, pos, done)
    }
}

#[cfg(test)]
mod tests {
    use super::Regex;

    fn matches(filter: &str, text: &str) -> bool {
        Regex::from_filter(filter)
            .unwrap_or_else(|| panic!("{filter} compiles"))
            .is_match(text)
    }

    #[test]
    fn the_common_subset() {
        for (filter, text, expected) in [
            ("/CHANNEL_/", "CHANNEL_ANSWER", true),
            ("/^CHANNEL_(ANSWER|HANGUP)$/", "CHANNEL_HANGUP", true),
            (
                "/^CHANNEL_(ANSWER|HANGUP)$/",
                "CHANNEL_HANGUP_COMPLETE",
                false,
            ),
            ("/^user\\/10[0-9]{2}$/", "user/1042", true),
            ("/^user\\/10[0-9]{2}$/", "user/104", false),
            ("/^\\d+$/", "12345", true),
            ("/^\\d+$/", "12a45", false),
            ("/^a.*z$/", "abcz", true),
            ("/^ab?c/", "ac", true),
            ("/[^a-z]/", "abc", false),
            ("/[^a-z]/", "abC", true),
            ("/answer/i", "CHANNEL_ANSWER", true),
            ("/answer/", "CHANNEL_ANSWER", false),
            ("/^(a|ab)(c|bcd)$/", "abcd", true),
            ("/x{2,3}/", "axxb", true),
            ("/^x{2,3}$/", "xxxx", false),
            ("/a{/", "a{", true),
            ("/é+/", "café", true),
        ] {
            assert_eq!(matches(filter, text), expected, "{filter} on {text}");
        }
    }

    #[test]
    fn bad_patterns_do_not_compile() {
        for filter in ["/(a/", "/[ab/", "/*a/", "/a)/", "/^*/", "nope"] {
            assert!(Regex::from_filter(filter).is_none(), "{filter}");
        }
    }

    #[test]
    fn a_pathological_pattern_gives_up_instead_of_hanging() {
        let text = "a".repeat(40);
        assert!(!matches("/^(a*)*b$/", &text));
    }
}
