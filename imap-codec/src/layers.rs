//! The module layers of the codec and the one direction of their dependencies (docs/DESIGN.md,
//! "Module layers"): a module may use only modules of a lower layer, never one of its own
//! layer listed after it, nor a higher one. This test reads the sources and checks every
//! `crate::` path outside test code against [`LAYERS`].

/// Modules from the bottom up. A module may refer to modules listed before it only; modules on
/// one line form one layer of docs/DESIGN.md, in the order their dependencies require.
const LAYERS: &[&[&str]] = &[
    // foundation: errors, options, small containers, generators for `arbitrary`
    &["error", "options", "list", "base64", "arbitrary_util"],
    // lexical classes (`parse::class`, which uses nothing); framing (lines and literal
    // headers); the byte cursor (`parse`); the output buffer
    &["class", "framer", "parse", "encode", "names"],
    // core values
    &["core", "datetime", "sequence", "vocab"],
    // composite values
    &[
        "mailbox",
        "capability",
        "status",
        "flag",
        "envelope",
        "ext",
        "body",
        "fetch",
        "search",
    ],
    // messages
    &["command", "response"],
    // codec entry points
    &["codec"],
    // `Arbitrary` impls of types with private fields (feature `arbitrary`): on top, used by none
    &["arbitrary_impls"],
];

/// Names the crate root re-exports, by the module that defines them.
const ROOT_REEXPORTS: &[(&str, &str)] = &[
    ("Encode", "encode"),
    ("EncodeBuf", "encode"),
    ("EncodeOptions", "encode"),
    ("Fragment", "encode"),
    ("DecodeError", "error"),
    ("FrameError", "error"),
    ("ValidationError", "error"),
    ("DecodeOptions", "options"),
    ("Limits", "options"),
    ("Profile", "options"),
    ("Quirk", "options"),
    ("Warning", "options"),
];

/// Position of a module in [`LAYERS`] (flattened), `None` for an unknown module.
fn rank(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .flat_map(|l| l.iter())
        .position(|m| *m == module)
}

/// The source without comments and without items marked `#[cfg(test)]` (an item whose first
/// line ends with `{` is skipped up to the `}` at its indentation; otherwise one line).
fn non_test_code(src: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut lines = src.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if t == "#[cfg(test)]" {
            let item = lines.next().map_or("", |(_, item)| item);
            if item.trim_end().ends_with('{') {
                let indent = &item[..item.len() - item.trim_start().len()];
                let close = format!("{indent}}}");
                for (_, l) in lines.by_ref() {
                    if l.trim_end() == close {
                        break;
                    }
                }
            }
            continue;
        }
        out.push((n + 1, line));
    }
    out
}

/// The module each `crate::` path in `code` names.
fn crate_refs(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `$crate::` or an identifier ending in `crate`
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let module = if name == "parse" && rest[name.len()..].starts_with("::class") {
            "class".to_string()
        } else {
            ROOT_REEXPORTS
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(name.clone(), |(_, m)| (*m).to_string())
        };
        out.push(if name.is_empty() {
            "{".to_string() // `crate::{...}`: list each path on its own instead
        } else {
            module
        });
    }
    out
}

/// The violations of the layer order in the source of `module`: `(line, used module)`.
fn violations(module: &str, src: &str) -> Vec<(usize, String)> {
    let own = rank(module);
    let mut out = Vec::new();
    for (n, line) in non_test_code(src) {
        for used in crate_refs(line) {
            if used == module {
                continue;
            }
            match (own, rank(&used)) {
                (Some(a), Some(b)) if b < a => {}
                _ => out.push((n, used)),
            }
        }
    }
    out
}

#[test]
fn dependencies_run_one_way() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.clone()];
    let mut checked = 0;
    let mut bad = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            for e in std::fs::read_dir(&path).unwrap() {
                files.push(e.unwrap().path());
            }
            continue;
        }
        let rel = path.strip_prefix(&root).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let module = first.strip_suffix(".rs").unwrap_or(first);
        let stem = path.file_stem().unwrap().to_str().unwrap();
        // The crate root, this test and test-only modules (`#[cfg(test)] mod tests;`).
        if matches!(module, "lib" | "layers" | "proptests" | "reach_tests")
            || matches!(stem, "tests" | "strategies")
        {
            continue;
        }
        assert!(
            rank(module).is_some(),
            "{}: module `{module}` is missing from LAYERS",
            rel.display()
        );
        let src = std::fs::read_to_string(&path).unwrap();
        for (line, used) in violations(module, &src) {
            bad.push(format!(
                "{}:{line}: `{module}` uses `{used}`",
                rel.display()
            ));
        }
        checked += 1;
    }
    assert!(checked > 20, "only {checked} source files found");
    assert!(
        bad.is_empty(),
        "imports against the layer order (see LAYERS):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_check_finds_upward_and_sideways_imports() {
    let src = "use crate::parse::Parser;\n\
               use crate::command::Command;\n\
               // use crate::codec::X;\n\
               #[cfg(test)]\n\
               mod tests {\n    use crate::codec::Y;\n}\n\
               fn f() -> crate::DecodeError { g() }\n\
               use crate::flag::Flag;\n";
    assert_eq!(
        violations("sequence", src),
        vec![(2, "command".to_string()), (9, "flag".to_string())]
    );
    assert_eq!(violations("codec", src), vec![]);
    // A module of the same layer listed later counts as higher.
    assert_eq!(
        violations("mailbox", "use crate::search::SearchKey;"),
        vec![(1, "search".to_string())]
    );
    // `parse::class` is the bottom of the lexical layer, the cursor above framing.
    assert_eq!(violations("framer", "use crate::parse::class;"), vec![]);
    assert_eq!(
        violations("framer", "use crate::parse::Parser;"),
        vec![(1, "parse".to_string())]
    );
    assert_eq!(
        violations("ext", "use crate::{core::Atom, parse::Parser};"),
        vec![(1, "{".to_string())]
    );
}

/// Every source file of the crate (path relative to `src`, text).
fn sources() -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![root.clone()];
    let mut out = Vec::new();
    while let Some(path) = dirs.pop() {
        if path.is_dir() {
            for e in std::fs::read_dir(&path).unwrap() {
                dirs.push(e.unwrap().path());
            }
        } else if path.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.strip_prefix(&root).unwrap().to_path_buf(), text));
        }
    }
    out
}

/// Issue 9 §3: no source file holds more than about 2,000 lines of non-test code (blank
/// lines, comments and `#[cfg(test)]` items not counted; test-only files skipped).
#[test]
fn no_file_is_over_2000_lines_of_code() {
    let mut counted = 0;
    let mut big = Vec::new();
    for (path, text) in sources() {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        if matches!(stem, "tests" | "strategies" | "layers" | "proptests") {
            continue;
        }
        let n = non_test_code(&text)
            .iter()
            .filter(|(_, l)| !l.trim().is_empty())
            .count();
        counted += 1;
        if n > 2000 {
            big.push(format!("{}: {n} lines", path.display()));
        }
    }
    assert!(counted > 20, "only {counted} files");
    assert!(
        big.is_empty(),
        "files over 2,000 lines of code:\n{}",
        big.join("\n")
    );
}

/// Issue 9 §3: base64 comes from the `base64` crate; no source holds an alphabet table (what
/// a hand-written coder needs), in either order of the letters.
#[test]
fn no_hand_written_base64() {
    let upper: String = ('A'..='Z').collect();
    let lower: String = ('a'..='z').collect();
    let needles = [format!("{upper}{lower}"), format!("{lower}{upper}")];
    let mut found = Vec::new();
    for (path, text) in sources() {
        if path.file_stem().is_some_and(|s| s == "layers") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if needles.iter().any(|k| line.contains(k.as_str())) {
                found.push(format!("{}:{}", path.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "base64 alphabets in: {}",
        found.join(", ")
    );
}

/// The paths a README names: link targets and code spans that look like a file path (no
/// space, a `/` that is not the whole span, not a URL, not a Rust path).
fn readme_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut spans: Vec<&str> = text.split('`').skip(1).step_by(2).collect();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        spans.push(&rest[..rest.find(')').unwrap_or(rest.len())]);
    }
    for s in spans {
        let s = s.trim();
        if s.len() < 2
            || !s.contains('/')
            || s.contains(char::is_whitespace)
            || s.contains("://")
            || s.starts_with('#')
        {
            continue;
        }
        out.push(s.to_string());
    }
    out
}

/// Issue 9 §4: the README packaged with each published crate names no path outside its crate
/// folder and no path of a machine: every path it names is relative, stays inside the crate
/// (no `..`) and exists there (files of `src/` may be named from `src/`).
#[test]
fn packaged_readmes_name_no_path_outside_the_crate() {
    let codec = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut bad = Vec::new();
    for krate in [
        codec.to_path_buf(),
        codec.join("../imap-session"),
        codec.join("../imap-tokio"),
    ] {
        let readme = krate.join("README.md");
        let text = std::fs::read_to_string(&readme).unwrap();
        for p in readme_paths(&text) {
            checked += 1;
            let inside = !p.starts_with('/')
                && !p.starts_with('~')
                && p.chars().nth(1) != Some(':')
                && !p.split('/').any(|c| c == "..");
            // `tests/extensions.rs::name` names a test in a file
            let rel = p.split("::").next().unwrap_or("").trim_end_matches('/');
            if !inside || !(krate.join(rel).exists() || krate.join("src").join(rel).exists()) {
                bad.push(format!("{}: `{p}`", readme.display()));
            }
        }
    }
    assert!(checked > 0, "no path found at all: the scan is broken");
    assert!(
        bad.is_empty(),
        "paths outside the crate:\n{}",
        bad.join("\n")
    );
}

#[test]
fn readme_path_scan() {
    let text = "see `src/lib.rs` and [x](../docs/A.md), `a / b`, `/`, \
                [rfc](https://example.org/a/b), `CommandBody::X`, `/home/u/f`";
    assert_eq!(
        readme_paths(text),
        ["src/lib.rs", "/home/u/f", "../docs/A.md"]
    );
}
