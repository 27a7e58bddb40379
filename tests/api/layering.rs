//! The modules of `src/` depend on each other one way only. Each has a layer; a module may
//! name (`crate::…` in `use` lines and paths) only modules of lower layers. The order is the
//! README's: `startup → settings → web → accounts → passkeys → client → challenges → metrics →
//! mail → clock, db, tls → domain`.

use std::path::Path;

/// Layers, lowest first; modules on one line are peers and do not use each other.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["clock", "db", "tls"],
    &["mail"],
    &["metrics"],
    &["challenges"],
    &["client"],
    &["passkeys"],
    &["accounts"],
    &["web"],
    &["settings"],
    &["startup"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level module a file of `src/` belongs to (`src/web/account.rs` → `web`).
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level names of a `{a::b, c::{d, e}}` group, after its `{`.
fn group_names(group: &str) -> Vec<String> {
    let (mut names, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => names.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    names.push(current);
    names
        .iter()
        .filter_map(|n| n.trim().split("::").next().map(str::trim))
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Every `crate::NAME` in the code of `text`, with its line (comments skipped; a group may
/// span lines, as rustfmt writes long ones).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let code: String =
        text.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let line = code[..at].matches('\n').count() + 1;
        let after = &code[at + "crate::".len()..];
        match after.strip_prefix('{') {
            Some(group) => found.extend(group_names(group).into_iter().map(|name| (line, name))),
            None => {
                let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    found.push((line, name));
                }
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_uses_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src/");
        let module = module_of(relative);
        // The crate root and the binaries sit above every layer.
        let Some(own) = layer_of(&module) else {
            assert!(matches!(module.as_str(), "lib" | "main" | "bin"), "{} has no layer", relative.display());
            continue;
        };
        let text = std::fs::read_to_string(file).expect("a source file is readable");
        for (line, used) in crate_paths(&text) {
            checked += 1;
            let used_layer =
                layer_of(&used).unwrap_or_else(|| panic!("{}:{line}: unknown module {used}", relative.display()));
            if used != module && used_layer >= own {
                violations.push(format!("{}:{line}: {module} uses {used}", relative.display()));
            }
        }
    }
    assert!(checked > 100, "only {checked} crate paths found: is the scan reading src/?");
    assert!(violations.is_empty(), "imports against the layer order:\n{}", violations.join("\n"));
}

#[test]
fn the_scan_sees_grouped_multi_line_and_inline_paths() {
    let text = "use crate::{db::Database, web};\nlet x = crate::tls::install(); // crate::startup\n\
                use crate::{\n    mail::{Mailer, Outbox},\n    settings::Settings,\n};\n";
    let found = crate_paths(text);
    let names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["db", "web", "tls", "mail", "settings"]);
    assert_eq!(found[4].0, 3, "a group is reported at the line of its `crate::`");
}
