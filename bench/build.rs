//! Records which compiler built the bench program, for the machine line of its report.

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = std::process::Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|| "rustc (unknown version)".to_owned());
    println!("cargo::rustc-env=THORP_BENCH_RUSTC={version}");
    println!("cargo::rerun-if-env-changed=RUSTC");
}
