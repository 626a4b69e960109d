use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Timeout(u64);

fn main() {}
