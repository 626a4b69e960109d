use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Health {
    #[hot_config(key = "HEALTH_PORTS", max = 65535, default = "8080, 9x90")]
    ports: Vec<u32>,
}

fn main() {}
