use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Detection {
    #[hot_config(key = "DETECTION_VENUES", non_empty, default = " , ")]
    venues: Vec<String>,
}

fn main() {}
