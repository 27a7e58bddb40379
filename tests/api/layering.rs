//! The modules of `src/` depend on each other one way only. Each has a layer; a module may
//! name (`crate::…` in `use` lines and paths) only modules of lower layers. The order is the
//! README's: `startup → settings → web → accounts → passkeys → client → challenges → mail →
//! clock, db, tls → domain`.

use std::path::Path;

/// Layers, lowest first; modules on one line are peers and do not use each other.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["clock", "db", "tls"],
    &["mail"],
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

/// Every `crate::NAME` in the code of `text` (comments skipped).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            // `crate::{a, b}` names several at once.
            if let Some(grouped) = after.strip_prefix('{') {
                let group = grouped.split('}').next().unwrap_or_default();
                for part in group.split(',') {
                    let name = part.trim().split("::").next().unwrap_or_default().trim();
                    if !name.is_empty() {
                        found.push((n + 1, name.to_owned()));
                    }
                }
            } else if !name.is_empty() {
                found.push((n + 1, name));
            }
            rest = after;
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
fn the_scan_sees_grouped_and_inline_paths() {
    let found = crate_paths("use crate::{db::Database, web};\nlet x = crate::tls::install(); // crate::startup\n");
    let names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["db", "web", "tls"]);
}
