use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Detection {
    #[hot_config(key = "MIN_EDGE_SCORE", range = 0..100)]
    min_edge_score: u32,
}

fn main() {}
