//! The few Solana RPC types the node uses: commitment levels and the latest blockhash.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How settled a slot must be for an answer (Solana's `commitment` config field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Commitment {
    /// The node's most recent slot; may be rolled back.
    Processed,
    /// Voted on by a supermajority.
    Confirmed,
    /// Rooted: will not be rolled back. Solana's default.
    #[default]
    Finalized,
}

impl Commitment {
    /// The wire name (`processed`, `confirmed`, `finalized`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Confirmed => "confirmed",
            Self::Finalized => "finalized",
        }
    }
}

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A commitment name that is not one of the three levels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown commitment level (expected processed, confirmed or finalized)")]
pub struct UnknownCommitment;

impl FromStr for Commitment {
    type Err = UnknownCommitment;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "processed" => Ok(Self::Processed),
            "confirmed" => Ok(Self::Confirmed),
            "finalized" => Ok(Self::Finalized),
            _ => Err(UnknownCommitment),
        }
    }
}

/// The answer of `getLatestBlockhash`, flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestBlockhash {
    /// The slot the answer was read at (`context.slot`).
    pub slot: u64,
    /// Base58 blockhash.
    pub blockhash: String,
    /// Last block height at which a transaction using this blockhash is accepted.
    pub last_valid_block_height: u64,
}

/// `getLatestBlockhash` as it appears on the wire (`{context, value}`).
#[derive(Debug, Deserialize)]
pub(crate) struct LatestBlockhashResponse {
    context: Context,
    value: BlockhashValue,
}

#[derive(Debug, Deserialize)]
struct Context {
    slot: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockhashValue {
    blockhash: String,
    last_valid_block_height: u64,
}

impl From<LatestBlockhashResponse> for LatestBlockhash {
    fn from(r: LatestBlockhashResponse) -> Self {
        Self {
            slot: r.context.slot,
            blockhash: r.value.blockhash,
            last_valid_block_height: r.value.last_valid_block_height,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitment_round_trips_through_its_wire_name() {
        for level in [
            Commitment::Processed,
            Commitment::Confirmed,
            Commitment::Finalized,
        ] {
            assert_eq!(level.as_str().parse::<Commitment>(), Ok(level));
            assert_eq!(serde_json::to_value(level).unwrap(), level.as_str());
        }
        assert_eq!("max".parse::<Commitment>(), Err(UnknownCommitment));
        assert_eq!(Commitment::default(), Commitment::Finalized);
    }

    #[test]
    fn latest_blockhash_reads_the_wire_shape() {
        let wire = serde_json::json!({
            "context": {"slot": 7, "apiVersion": "2.2.0"},
            "value": {"blockhash": "abc", "lastValidBlockHeight": 157}
        });
        let parsed: LatestBlockhashResponse = serde_json::from_value(wire).unwrap();
        assert_eq!(
            LatestBlockhash::from(parsed),
            LatestBlockhash {
                slot: 7,
                blockhash: "abc".into(),
                last_valid_block_height: 157
            }
        );
    }
}
