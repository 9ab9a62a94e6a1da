//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through every target
//! on stable, so an input that once crashed a decoder, kept there after its fix,
//! fails CI if the crash comes back. Each target must have its fuzz binary and a
//! corpus that is not empty; its seeds must still be accepted.

use std::path::{Path, PathBuf};

use corral_fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

#[test]
fn every_target_has_a_fuzz_binary_and_every_binary_a_target() {
    let dir = fuzz_dir().join("fuzz_targets");
    let mut binaries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(String::from)
        })
        .collect();
    binaries.sort();
    let mut targets: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    targets.sort();
    assert_eq!(binaries, targets);
    for name in &targets {
        let text = std::fs::read_to_string(dir.join(format!("{name}.rs"))).expect("read");
        assert!(
            text.contains(&format!("corral_fuzz_targets::{name}(")),
            "fuzz_targets/{name}.rs does not call its target"
        );
    }
}

#[test]
fn the_corpus_replays_without_a_panic() {
    let mut total = 0;
    let mut wrong = Vec::new();
    for (name, target) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        assert!(!inputs.is_empty(), "the corpus of {name} is empty");
        for input in &inputs {
            let data = std::fs::read(input).expect("read a corpus file");
            let outcome = std::panic::catch_unwind(|| target(&data));
            let Ok(accepted) = outcome else {
                panic!("{name} panics on {}", input.display());
            };
            let file = input.file_name().and_then(|f| f.to_str()).unwrap_or("");
            if file.starts_with("seed-") && !accepted {
                wrong.push(format!("{name} no longer accepts its seed {file}"));
            }
            if file.starts_with("reject-") && accepted {
                wrong.push(format!("{name} accepts {file}, which it must refuse"));
            }
        }
        total += inputs.len();
    }
    eprintln!("replayed {total} inputs through {} targets", TARGETS.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
