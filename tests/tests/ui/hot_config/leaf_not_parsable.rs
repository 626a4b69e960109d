use thorp_ops::HotConfig;

struct Opaque;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "RPC_THING")]
    thing: Opaque,
}

fn main() {}
