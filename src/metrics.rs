//! Operational metrics, served at `GET /metrics` in the Prometheus text format (0.0.4).
//!
//! Rules:
//! - Requests are counted by route *pattern* (`/api/v1/children/{id}`), never by the
//!   path itself, so ids (and so children) never appear in a label and the number of
//!   series stays bounded. A request that matched no route counts as `unmatched`.
//! - Latency is a histogram per route with fixed buckets (seconds), measured from the
//!   request's arrival to its answer's head.
//! - Everything here is counters and gauges in memory, per instance; what lives in the
//!   database (the outbox) is counted when scraped, and the pool and the audit
//!   appender are read as they stand.
//! - Nothing about a child is ever a label or a value.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
pub const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, n) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Debug, Default)]
struct Requests {
    /// (route, method, status) -> count.
    counts: BTreeMap<(String, String, u16), u64>,
    /// route -> latency.
    latency: BTreeMap<String, Histogram>,
}

/// The registry every worker shares (one per process, in `AppState`).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<Requests>,
    /// Requests waiting for a pooled connection right now.
    pub pool_waiting: AtomicI64,
    /// Unix time (seconds) the last escalation sweep finished; 0 before the first.
    sweep_last: AtomicI64,
    sweep_micros: AtomicU64,
    sweeps: AtomicU64,
    sweep_failures: AtomicU64,
    /// Messages handed to the relay and accepted.
    pub mail_sent: AtomicU64,
}

/// What `/metrics` reads besides the registry, gathered when scraped.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub pool_size: u32,
    pub pool_connections: u32,
    pub pool_idle: u32,
    /// Outbox rows by status.
    pub outbox: Vec<(String, i64)>,
    pub audit_queue: u64,
    pub audit_appended: u64,
    pub audit_batches: u64,
    pub audit_failed_batches: u64,
    pub audit_busy_seconds: f64,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// One answered request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let mut r = match self.requests.lock() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        *r.counts
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        r.latency
            .entry(route.to_string())
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// One escalation sweep finished (`ok`: without an error) at `finished_unix`.
    pub fn observe_sweep(&self, finished_unix: i64, took: Duration, ok: bool) {
        self.sweep_last.store(finished_unix, Ordering::Relaxed);
        self.sweep_micros
            .store(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.sweeps.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.sweep_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The whole exposition.
    pub fn render(&self, s: &Snapshot) -> String {
        let mut out = String::new();
        self.render_requests(&mut out);
        family(
            &mut out,
            "cla_db_pool_connections",
            "gauge",
            "Connections in the pool by state.",
        );
        let in_use = s.pool_connections.saturating_sub(s.pool_idle);
        let _ = writeln!(out, "cla_db_pool_connections{{state=\"in_use\"}} {in_use}");
        let _ = writeln!(out, "cla_db_pool_connections{{state=\"idle\"}} {}", s.pool_idle);
        family(
            &mut out,
            "cla_db_pool_size",
            "gauge",
            "Most connections the pool opens.",
        );
        let _ = writeln!(out, "cla_db_pool_size {}", s.pool_size);
        family(
            &mut out,
            "cla_db_pool_waiting",
            "gauge",
            "Requests waiting for a connection.",
        );
        let _ = writeln!(
            out,
            "cla_db_pool_waiting {}",
            self.pool_waiting.load(Ordering::Relaxed).max(0)
        );
        family(&mut out, "cla_outbox_messages", "gauge", "Outbox messages by status.");
        for (status, n) in &s.outbox {
            let _ = writeln!(out, "cla_outbox_messages{{status=\"{}\"}} {n}", escape(status));
        }
        family(
            &mut out,
            "cla_mail_sent_total",
            "counter",
            "Messages this instance handed to the relay.",
        );
        let _ = writeln!(out, "cla_mail_sent_total {}", self.mail_sent.load(Ordering::Relaxed));
        self.render_sweep(&mut out);
        render_audit(&mut out, s);
        out
    }

    fn render_requests(&self, out: &mut String) {
        let r = match self.requests.lock() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        family(
            out,
            "cla_http_requests_total",
            "counter",
            "Answered requests by route, method and status.",
        );
        for ((route, method, status), n) in &r.counts {
            let _ = writeln!(
                out,
                "cla_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                escape(route),
                escape(method)
            );
        }
        family(
            out,
            "cla_http_request_duration_seconds",
            "histogram",
            "Time to answer, by route.",
        );
        for (route, h) in &r.latency {
            let route = escape(route);
            for (bound, n) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(
                    out,
                    "cla_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "cla_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "cla_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "cla_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
    }

    fn render_sweep(&self, out: &mut String) {
        family(
            out,
            "cla_escalation_sweep_last_timestamp_seconds",
            "gauge",
            "When the last escalation sweep finished (Unix time; 0: none yet).",
        );
        let _ = writeln!(
            out,
            "cla_escalation_sweep_last_timestamp_seconds {}",
            self.sweep_last.load(Ordering::Relaxed)
        );
        family(
            out,
            "cla_escalation_sweep_duration_seconds",
            "gauge",
            "How long the last escalation sweep took.",
        );
        let _ = writeln!(
            out,
            "cla_escalation_sweep_duration_seconds {}",
            self.sweep_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        family(out, "cla_escalation_sweeps_total", "counter", "Escalation sweeps run.");
        let _ = writeln!(
            out,
            "cla_escalation_sweeps_total {}",
            self.sweeps.load(Ordering::Relaxed)
        );
        family(
            out,
            "cla_escalation_sweep_failures_total",
            "counter",
            "Escalation sweeps that failed.",
        );
        let _ = writeln!(
            out,
            "cla_escalation_sweep_failures_total {}",
            self.sweep_failures.load(Ordering::Relaxed)
        );
    }
}

fn render_audit(out: &mut String, s: &Snapshot) {
    family(
        out,
        "cla_audit_appender_queue",
        "gauge",
        "Audit entries of reads handed to the appender and not yet committed.",
    );
    let _ = writeln!(out, "cla_audit_appender_queue {}", s.audit_queue);
    family(
        out,
        "cla_audit_appender_entries_total",
        "counter",
        "Audit entries the appender committed.",
    );
    let _ = writeln!(out, "cla_audit_appender_entries_total {}", s.audit_appended);
    family(
        out,
        "cla_audit_appender_batches_total",
        "counter",
        "Batches (transactions) the appender committed.",
    );
    let _ = writeln!(out, "cla_audit_appender_batches_total {}", s.audit_batches);
    family(
        out,
        "cla_audit_appender_failed_batches_total",
        "counter",
        "Batches that failed and were appended entry by entry.",
    );
    let _ = writeln!(
        out,
        "cla_audit_appender_failed_batches_total {}",
        s.audit_failed_batches
    );
    family(
        out,
        "cla_audit_appender_busy_seconds_total",
        "counter",
        "Time the appender spent in its transactions.",
    );
    let _ = writeln!(out, "cla_audit_appender_busy_seconds_total {}", s.audit_busy_seconds);
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the text format writes it.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn requests_are_counted_by_route_method_and_status_with_cumulative_buckets() {
        let m = Metrics::new();
        m.observe_request("/api/v1/children/{id}", "GET", 200, Duration::from_millis(3));
        m.observe_request("/api/v1/children/{id}", "GET", 200, Duration::from_millis(30));
        m.observe_request("/api/v1/children/{id}", "GET", 404, Duration::from_millis(2));
        let text = m.render(&Snapshot::default());
        assert_eq!(
            line(
                &text,
                "cla_http_requests_total{route=\"/api/v1/children/{id}\",method=\"GET\",status=\"200\"}"
            ),
            Some("cla_http_requests_total{route=\"/api/v1/children/{id}\",method=\"GET\",status=\"200\"} 2")
        );
        assert!(text.contains("status=\"404\"} 1"));
        let bucket = |le: &str| {
            line(
                &text,
                &format!("cla_http_request_duration_seconds_bucket{{route=\"/api/v1/children/{{id}}\",le=\"{le}\"}}"),
            )
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_string)
        };
        assert_eq!(bucket("0.001").as_deref(), Some("0"));
        assert_eq!(bucket("0.005").as_deref(), Some("2"), "3 ms and 2 ms");
        assert_eq!(bucket("0.05").as_deref(), Some("3"), "cumulative");
        assert_eq!(bucket("+Inf").as_deref(), Some("3"));
    }

    #[test]
    fn every_family_has_help_and_type_and_every_sample_a_family() {
        let m = Metrics::new();
        m.observe_request("unmatched", "GET", 404, Duration::from_millis(1));
        m.observe_sweep(1_700_000_000, Duration::from_millis(1500), true);
        let snap = Snapshot {
            pool_size: 8,
            pool_connections: 3,
            pool_idle: 1,
            outbox: vec![("pending".into(), 4), ("dead".into(), 1)],
            audit_queue: 2,
            ..Snapshot::default()
        };
        let text = m.render(&snap);
        assert!(text.contains("cla_db_pool_connections{state=\"in_use\"} 2"));
        assert!(text.contains("cla_outbox_messages{status=\"pending\"} 4"));
        assert!(text.contains("cla_escalation_sweep_last_timestamp_seconds 1700000000"));
        assert!(text.contains("cla_escalation_sweep_duration_seconds 1.5"));
        assert!(text.contains("cla_audit_appender_queue 2"));
        let typed: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        for sample in text.lines().filter(|l| !l.starts_with('#')) {
            let name = sample.split(['{', ' ']).next().unwrap_or("");
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(f)))
                .unwrap_or(name);
            assert!(typed.contains(&family), "{sample} has no # TYPE");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
