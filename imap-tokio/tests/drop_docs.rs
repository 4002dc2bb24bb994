//! Every public async method documents what happens when its future is dropped (issue 14's
//! cancel-safety rule): its doc comment has a "Dropped before it completes" or a "Cancel
//! safety" paragraph. Reads the crate's sources.

use std::path::Path;

#[test]
fn every_public_async_method_documents_its_drop_behaviour() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if !t.starts_with("pub async fn ") {
                continue;
            }
            checked += 1;
            // The doc comment and attributes right above.
            let doc: Vec<&str> = lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim_start())
                .take_while(|l| l.starts_with("///") || l.starts_with("#["))
                .collect();
            let documented = doc
                .iter()
                .any(|l| l.contains("Dropped before it completes") || l.contains("Cancel safety"));
            if !documented {
                let name = t["pub async fn ".len()..]
                    .split(['(', '<'])
                    .next()
                    .unwrap_or("");
                missing.push(format!(
                    "{}: {name}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert!(
        checked >= 25,
        "only {checked} public async methods found: wrong directory?"
    );
    assert!(
        missing.is_empty(),
        "no drop behaviour documented: {missing:?}"
    );
}
