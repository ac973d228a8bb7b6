//! Request counts and latencies by route and status, and pool use, in the Prometheus
//! text format. Small enough to keep here rather than pull in a metrics stack.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

type Key = (String, String, u16);

#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<Key, Series>>,
}

/// How full the database pool is.
pub struct PoolUse {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

impl Metrics {
    /// `route` is the matched pattern (`/api/v1/households/{household_id}`), never the
    /// raw path, so ids do not explode the number of series.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let entry = series
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        entry.count += 1;
        entry.sum_seconds += seconds;
        for (bucket, bound) in entry.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    pub fn render(&self, pool: &PoolUse) -> String {
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP jifen_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE jifen_http_requests_total counter\n");
        for ((method, route, status), s) in series.iter() {
            let _ = writeln!(
                out,
                "jifen_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP jifen_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE jifen_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in series.iter() {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (count, bound) in s.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "jifen_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "jifen_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "jifen_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "jifen_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out.push_str("# HELP jifen_db_pool_connections Open database connections.\n");
        out.push_str("# TYPE jifen_db_pool_connections gauge\n");
        let _ = writeln!(out, "jifen_db_pool_connections {}", pool.connections);
        out.push_str("# HELP jifen_db_pool_idle Idle database connections.\n");
        out.push_str("# TYPE jifen_db_pool_idle gauge\n");
        let _ = writeln!(out, "jifen_db_pool_idle {}", pool.idle);
        out.push_str("# HELP jifen_db_pool_max Largest number of database connections.\n");
        out.push_str("# TYPE jifen_db_pool_max gauge\n");
        let _ = writeln!(out, "jifen_db_pool_max {}", pool.max);
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/healthz", 200, 0.003);
        metrics.observe("GET", "/healthz", 200, 0.2);
        let text = metrics.render(&PoolUse {
            connections: 2,
            idle: 1,
            max: 8,
        });
        assert!(text.contains(
            r#"jifen_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
        ));
        assert!(text.contains(r#"le="0.005"} 1"#));
        assert!(text.contains(r#"le="+Inf"} 2"#));
        assert!(text.contains("jifen_db_pool_max 8"));
    }
}
