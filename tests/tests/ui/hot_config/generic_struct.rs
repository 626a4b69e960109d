use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Pool<T> {
    #[hot_config(key = "POOL_SIZE")]
    size: T,
}

fn main() {}
