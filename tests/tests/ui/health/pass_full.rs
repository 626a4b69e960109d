// Every option of the attribute, compiled with warnings denied.
#![deny(warnings)]

use thorp_ops::health::{CheckContext, HealthState, HealthStats, HealthStatus, Unit};
use thorp_ops::health_component;

#[derive(Clone, Copy)]
pub enum Link {
    Up,
    Flapping(u8),
    Down { since_ms: u64 },
}

impl HealthState for Link {
    fn as_str(&self) -> &'static str {
        match self {
            Link::Up => "UP",
            Link::Flapping(_) => "FLAPPING",
            Link::Down { .. } => "DOWN",
        }
    }
}

/// Documented, as a public item in a crate that denies missing docs would need.
#[health_component]
pub struct UplinkStats {
    #[health(degraded_above = 50, issue = "SLOW", key = "HEALTH_MAX_UPLINK_RTT_MS",
             details = "rtt {value}ms > {threshold}ms while {state}")]
    #[health(critical_above = 500.5, issue = "VERY_SLOW")]
    pub rtt_ms: u32,
    #[health(degraded_below = -1, issue = "COLD", details = "{{{value:.1}}} below {threshold:.2}")]
    #[health(critical_below = -10, issue = "FROZEN")]
    pub temperature: i16,
    #[health(critical_when = "Down", issue = "LINK_DOWN", details = "link is {value}")]
    #[health(degraded_when = "Flapping | Up", issue = "LINK_UNSTABLE")]
    pub state: Link,
    #[health(unit = "ratio", rename = "loss", critical_above = 0.5, issue = "LOSSY",
             details = "loss {value:.1%} over {threshold:%}")]
    pub packet_loss: f64,
    pub bytes_sent_bytes: u64,
    #[health(skip)]
    pub _internal: Vec<u8>,
    pub label: String,
    pub enabled: bool,
}

fn main() {
    assert_eq!(UplinkStats::NAME, "uplink");
    let keys: Vec<_> = UplinkStats::RULES.iter().map(|r| r.key()).collect();
    assert_eq!(
        keys,
        [
            Some("HEALTH_MAX_UPLINK_RTT_MS"),
            Some("HEALTH_UPLINK_RTT_MS_CRITICAL_ABOVE"),
            Some("HEALTH_UPLINK_TEMPERATURE_DEGRADED_BELOW"),
            Some("HEALTH_UPLINK_TEMPERATURE_CRITICAL_BELOW"),
            None,
            None,
            Some("HEALTH_UPLINK_PACKET_LOSS_CRITICAL_ABOVE"),
        ]
    );
    let units: Vec<_> = UplinkStats::METRICS.iter().map(|m| (m.name(), m.unit())).collect();
    assert_eq!(
        units,
        [
            ("rttMs", Some(Unit::Milliseconds)),
            ("temperature", None),
            ("state", None),
            ("loss", Some(Unit::Ratio)),
            ("bytesSentBytes", Some(Unit::Bytes)),
            ("label", None),
            ("enabled", None),
        ]
    );

    let stats = UplinkStats {
        rtt_ms: 60,
        temperature: -2,
        state: Link::Flapping(3),
        packet_loss: 0.75,
        bytes_sent_bytes: 1,
        _internal: Vec::new(),
        label: "eu-1".into(),
        enabled: true,
    };
    let health = stats.evaluate(&CheckContext::default());
    assert_eq!(health.status, HealthStatus::Critical);
    assert_eq!(health.issue.as_deref(), Some("LOSSY"));
    assert_eq!(health.details.as_deref(), Some("loss 75.0% over 50%"));
    let details: Vec<_> = health.violations.iter().map(|v| v.details.as_str()).collect();
    assert_eq!(
        details,
        ["rtt 60ms > 50ms while FLAPPING", "{-2.0} below -1.00", "state is FLAPPING", "loss 75.0% over 50%"]
    );
    let down = UplinkStats { state: Link::Down { since_ms: 5 }, packet_loss: 0.0, ..stats };
    assert_eq!(down.evaluate(&CheckContext::default()).issue.as_deref(), Some("LINK_DOWN"));
}
