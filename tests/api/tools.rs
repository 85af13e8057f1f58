//! The real clients and servers tests talk to (Radicale, vdirsyncer, ldapsearch, slapd,
//! Chromium), installed on first use by `tests/tools/install.py` into `target/test-tools/`,
//! so `cargo test` on a fresh clone needs nothing but Rust and Python 3.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

static INSTALLED: Mutex<Option<HashMap<String, Vec<String>>>> = Mutex::new(None);

/// A command that runs `tool` (installing it first if needed), with the library path its
/// unpacked packages need. Panics with the installer's output if it cannot be installed.
pub fn command(tool: &str) -> Command {
    let argv = {
        // One installer at a time: test threads asking for the same tool wait for it.
        let mut guard = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
        let known = guard.get_or_insert_with(HashMap::new);
        if !known.contains_key(tool) {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/install.py");
            let out = Command::new("python3")
                .arg(&script)
                .arg(tool)
                .output()
                .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "installing {tool} for the tests failed:\n{}{}",
                stdout,
                String::from_utf8_lossy(&out.stderr)
            );
            let line = stdout.lines().last().unwrap_or("{}");
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("installer answered {line:?}: {e}"));
            let argv: Vec<String> = v[tool]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            assert!(
                !argv.is_empty(),
                "installer named no command for {tool}: {line}"
            );
            let mut argv = argv;
            if let Some(ld) = v["_ld_library_path"].as_str().filter(|s| !s.is_empty()) {
                argv.insert(0, format!("LD_LIBRARY_PATH={ld}"));
            }
            known.insert(tool.to_owned(), argv);
        }
        known[tool].clone()
    };
    let mut it = argv.into_iter().peekable();
    let mut env = Vec::new();
    while let Some(a) = it.next_if(|a| a.starts_with("LD_LIBRARY_PATH=")) {
        env.push(a["LD_LIBRARY_PATH=".len()..].to_owned());
    }
    let mut cmd = Command::new(it.next().unwrap_or_default());
    cmd.args(it);
    if let Some(ld) = env.pop() {
        cmd.env("LD_LIBRARY_PATH", ld);
    }
    cmd
}
