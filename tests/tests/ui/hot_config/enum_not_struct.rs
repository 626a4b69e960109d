use thorp_ops::HotConfig;

#[derive(HotConfig)]
enum Mode {
    Live,
    Paper,
}

fn main() {}
