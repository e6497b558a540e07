//! The import rules of docs/architecture.md, checked by reading the sources:
//! only `commands/` and `main.rs` use the command-line types (`cli`), and the
//! top-level modules import each other without cycles. A simple scan of
//! `crate::` and `super::` paths, with comments and literals left out.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One use of another top-level module: which, and where.
struct Reference {
    target: String,
    line: usize,
}

/// A source file under src/ with the module path its location gives it.
struct Source {
    /// e.g. `src/report/deliver.rs`.
    name: String,
    /// e.g. `["report", "deliver"]`; empty for lib.rs and main.rs.
    module: Vec<String>,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(root.join("src")).unwrap();
            let mut module: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            Source {
                name: format!("src/{}", relative.to_string_lossy().replace('\\', "/")),
                module,
                text: std::fs::read_to_string(&path).unwrap(),
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code with comments, strings and character literals blanked out
/// (newlines kept, so line numbers stay right).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let rest: String = chars[j + 1..].iter().collect();
            let end = rest.find(&close).map_or(chars.len(), |at| {
                j + 1 + rest[..at].chars().count() + close.chars().count()
            });
            for &skipped in &chars[i..end] {
                out.push(blank(skipped));
            }
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                let step = if chars[i] == '\\' { 2 } else { 1 };
                for &skipped in chars.iter().skip(i).take(step) {
                    out.push(blank(skipped));
                }
                i += step;
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1b}'), not a lifetime ('a).
            let end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&q| q == '\'')
                    .map(|at| i + 2 + at + 1)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.extend(std::iter::repeat_n(' ', end - i));
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Path,
    Open,
    Close,
    Comma,
    Other,
}

fn tokens(code: &str) -> Vec<(Token, usize)> {
    let mut out = Vec::new();
    for (index, line) in code.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_alphabetic() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push((Token::Word(chars[start..i].iter().collect()), index + 1));
                continue;
            }
            let token = match c {
                ':' if chars.get(i + 1) == Some(&':') => {
                    i += 1;
                    Token::Path
                }
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                c if c.is_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => Token::Other,
            };
            out.push((token, index + 1));
            i += 1;
        }
    }
    out
}

/// Every top-level module a file names through `crate::…` (or a `super::`
/// chain that climbs to the crate root), including `use crate::{a, b::C}`.
fn references(source: &Source) -> Vec<Reference> {
    let tokens = tokens(&code_only(&source.text));
    let mut found = Vec::new();
    let mut depth = 0usize;
    // Brace depths at which inline `mod name {` blocks opened.
    let mut inline_modules: Vec<usize> = Vec::new();
    let word = |i: usize| match tokens.get(i) {
        Some((Token::Word(w), _)) => Some(w.as_str()),
        _ => None,
    };
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].0 {
            Token::Open => {
                if i >= 2 && word(i - 2) == Some("mod") && word(i - 1).is_some() {
                    inline_modules.push(depth);
                }
                depth += 1;
            }
            Token::Close => {
                depth = depth.saturating_sub(1);
                if inline_modules.last() == Some(&depth) {
                    inline_modules.pop();
                }
            }
            Token::Word(w) if w == "crate" || w == "super" => {
                let preceded_by_path = i > 0 && tokens[i - 1].0 == Token::Path;
                if preceded_by_path {
                    i += 1;
                    continue;
                }
                // Climb: `crate` goes to the root; each `super` one level up.
                let mut j = i;
                let at_root = if w == "crate" {
                    j += 1;
                    true
                } else {
                    let mut climbs = 0;
                    while word(j) == Some("super")
                        && tokens.get(j + 1).map(|t| &t.0) == Some(&Token::Path)
                    {
                        climbs += 1;
                        j += 2;
                    }
                    if climbs == 0 {
                        i += 1;
                        continue;
                    }
                    j -= 1;
                    climbs >= source.module.len() + inline_modules.len()
                };
                if at_root && tokens.get(j).map(|t| &t.0) == Some(&Token::Path) {
                    let line = tokens[i].1;
                    match tokens.get(j + 1) {
                        Some((Token::Word(target), _)) => found.push(Reference {
                            target: target.clone(),
                            line,
                        }),
                        Some((Token::Open, _)) => {
                            // `crate::{a, b::c, d::{e, f}}`: the first word of each entry.
                            let mut nesting = 0;
                            let mut expect_entry = true;
                            for (token, line) in &tokens[j + 1..] {
                                match token {
                                    Token::Open => {
                                        nesting += 1;
                                        expect_entry = nesting == 1;
                                    }
                                    Token::Close => {
                                        nesting -= 1;
                                        if nesting == 0 {
                                            break;
                                        }
                                    }
                                    Token::Comma if nesting == 1 => expect_entry = true,
                                    Token::Word(target) if expect_entry && nesting == 1 => {
                                        found.push(Reference {
                                            target: target.clone(),
                                            line: *line,
                                        });
                                        expect_entry = false;
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    found.retain(|r| r.target != "self");
    found
}

#[test]
fn only_commands_and_main_use_the_command_line_types() {
    let mut offending = Vec::new();
    for source in sources() {
        let allowed = source.name == "src/main.rs"
            || source.name == "src/cli.rs"
            || source.name.starts_with("src/commands/");
        if allowed {
            continue;
        }
        let uses_cli = references(&source)
            .into_iter()
            .filter(|r| r.target == "cli");
        offending.extend(uses_cli.map(|r| format!("{}:{}", source.name, r.line)));
    }
    assert!(
        offending.is_empty(),
        "cli (the flags) is for commands/ and main.rs only; library code takes \
         library types (docs/architecture.md). Imported at: {}",
        offending.join(", ")
    );
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    // module → (module it imports → first place it does so)
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for source in sources() {
        let Some(from) = source.module.first() else {
            continue; // lib.rs and main.rs sit above everything
        };
        for reference in references(&source) {
            if &reference.target != from {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(reference.target)
                    .or_insert_with(|| format!("{}:{}", source.name, reference.line));
            }
        }
    }
    let mut cycles = BTreeSet::new();
    for start in graph.keys() {
        if let Some(path) = path_back(&graph, start) {
            let steps: Vec<String> = path
                .windows(2)
                .map(|pair| format!("{} → {} ({})", pair[0], pair[1], graph[&pair[0]][&pair[1]]))
                .collect();
            cycles.insert(steps.join(", "));
        }
    }
    assert!(
        cycles.is_empty(),
        "imports must point one way, downwards (docs/architecture.md); cycles:\n{}",
        cycles.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// A shortest import path from `start` back to itself, if there is one.
fn path_back(
    graph: &BTreeMap<String, BTreeMap<String, String>>,
    start: &str,
) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in graph.get(at).into_iter().flat_map(|edges| edges.keys()) {
            if next == start {
                let mut path = vec![start.to_string(), at.to_string()];
                let mut step = at;
                while step != start {
                    step = previous[step];
                    path.push(step.to_string());
                }
                path.reverse();
                path.dedup();
                return Some(path);
            }
            if !previous.contains_key(next.as_str()) && next != start {
                previous.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

#[test]
fn the_scan_sees_the_ways_a_module_is_named() {
    let source = Source {
        name: "src/report/example.rs".into(),
        module: vec!["report".into(), "example".into()],
        text: r##"
            use crate::cli::View; // crate::commands in a comment
            use crate::{fsutil, term::{Style, wrap}};
            const S: &str = "crate::questionnaire";
            const R: &str = r#"crate::assessment"#;
            const C: char = '{';
            fn f<'a>(x: &'a str) { super::super::net::run(x); super::model::Report::new(); }
            mod tests {
                use super::super::super::device;
                use super::super::encrypt;
            }
        "##
        .into(),
    };
    let found: Vec<(String, usize)> = references(&source)
        .into_iter()
        .map(|r| (r.target, r.line))
        .collect();
    let expected = [
        ("cli", 2),
        ("fsutil", 3),
        ("term", 3),
        ("net", 7),
        ("device", 9),
    ];
    assert_eq!(found, expected.map(|(t, l)| (t.to_string(), l)).to_vec());
}
