//! Request counts and latencies by route and status, pool use, and the scheme's own
//! figures (points outstanding, claims, redemptions, 清零, posting lag), in the Prometheus
//! text format (the `prometheus` crate, one registry per server).

use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

use crate::db::TextState;
use crate::reports::model::BusinessFigures;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Upper bounds of the statements-per-request histogram.
const STATEMENT_BUCKETS: [f64; 9] = [2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 60.0, 100.0];

const LABELS: [&str; 3] = ["method", "route", "status"];

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    statements: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    business: Business,
}

/// The scheme's figures, read from the database at each scrape.
struct Business {
    outstanding: GaugeVec,
    claims: IntGaugeVec,
    redemptions: IntGaugeVec,
    expiry_runs: IntGaugeVec,
    expired: GaugeVec,
    posting_lag: Gauge,
}

impl Business {
    fn new() -> Result<Self, prometheus::Error> {
        Ok(Self {
            outstanding: GaugeVec::new(
                Opts::new(
                    "jifen_points_outstanding",
                    "Points in households' hands, per village.",
                ),
                &["village"],
            )?,
            claims: IntGaugeVec::new(
                Opts::new("jifen_claims", "Claims per village and status."),
                &["village", "status"],
            )?,
            redemptions: IntGaugeVec::new(
                Opts::new(
                    "jifen_redemptions",
                    "Redemptions per village: standing, or voided.",
                ),
                &["village", "state"],
            )?,
            expiry_runs: IntGaugeVec::new(
                Opts::new("jifen_expiry_runs", "清零 runs per village."),
                &["village"],
            )?,
            expired: GaugeVec::new(
                Opts::new(
                    "jifen_points_expired",
                    "Points cleared by 清零, per village.",
                ),
                &["village"],
            )?,
            posting_lag: Gauge::new(
                "jifen_posting_lag_seconds",
                "How long the oldest ended notice has waited for its posting (0: keeping up).",
            )?,
        })
    }

    fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![
            Box::new(self.outstanding.clone()),
            Box::new(self.claims.clone()),
            Box::new(self.redemptions.clone()),
            Box::new(self.expiry_runs.clone()),
            Box::new(self.expired.clone()),
            Box::new(self.posting_lag.clone()),
        ]
    }

    /// Replaces every series with `figures` (a village or status gone is gone here too).
    fn set(&self, figures: &BusinessFigures) {
        self.outstanding.reset();
        self.claims.reset();
        self.redemptions.reset();
        self.expiry_runs.reset();
        self.expired.reset();
        let points = |a: crate::amount::Amount| a.minor() as f64 / 100.0;
        for v in &figures.villages {
            let village = v.code.as_str();
            self.outstanding
                .with_label_values(&[village])
                .set(points(v.outstanding));
            for (status, n) in &v.claims {
                self.claims
                    .with_label_values(&[village, status.as_str()])
                    .set(*n);
            }
            for (state, n) in [
                ("standing", v.redemptions),
                ("voided", v.voided_redemptions),
            ] {
                self.redemptions.with_label_values(&[village, state]).set(n);
            }
            self.expiry_runs
                .with_label_values(&[village])
                .set(v.expiry_runs);
            self.expired
                .with_label_values(&[village])
                .set(points(v.expired));
        }
        self.posting_lag.set(figures.posting_lag_seconds);
    }
}

/// What serving one request took.
#[derive(Clone, Copy, Debug)]
pub struct Served {
    pub seconds: f64,
    /// Statements sent to the database.
    pub statements: u64,
}

/// How full the database pool is.
pub struct PoolUse {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// A histogram by method, route and status.
fn by_request(name: &str, help: &str, buckets: &[f64]) -> Result<HistogramVec, prometheus::Error> {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        &LABELS,
    )
}

impl Metrics {
    /// The server's metrics, registered once at start-up.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "jifen_http_requests_total",
                "HTTP requests by route and status.",
            ),
            &LABELS,
        )?;
        let latency = by_request(
            "jifen_http_request_duration_seconds",
            "HTTP request latency.",
            &BUCKETS,
        )?;
        let statements = by_request(
            "jifen_db_statements_per_request",
            "Statements a request sent to the database (BEGIN, COMMIT and savepoints not counted).",
            &STATEMENT_BUCKETS,
        )?;
        let metrics = Self {
            pool_connections: IntGauge::new(
                "jifen_db_pool_connections",
                "Open database connections.",
            )?,
            pool_idle: IntGauge::new("jifen_db_pool_idle", "Idle database connections.")?,
            pool_max: IntGauge::new(
                "jifen_db_pool_max",
                "Largest number of database connections.",
            )?,
            requests,
            latency,
            statements,
            registry,
            business: Business::new()?,
        };
        for collector in [
            Box::new(metrics.requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(metrics.latency.clone()),
            Box::new(metrics.statements.clone()),
            Box::new(metrics.pool_connections.clone()),
            Box::new(metrics.pool_idle.clone()),
            Box::new(metrics.pool_max.clone()),
        ]
        .into_iter()
        .chain(metrics.business.collectors())
        {
            metrics.registry.register(collector)?;
        }
        Ok(metrics)
    }

    /// `route` is the matched pattern (`/api/v1/households/{household_id}`), never the
    /// raw path, so ids do not explode the number of series.
    pub fn observe(&self, method: &str, route: &str, status: u16, served: Served) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(served.seconds);
        self.statements
            .with_label_values(&labels)
            .observe(served.statements as f64);
    }

    /// The text of a scrape; the business series keep their last figures when this
    /// scrape could not read them (`None`: the database is down).
    pub fn render(&self, pool: &PoolUse, figures: Option<&BusinessFigures>) -> String {
        if let Some(figures) = figures {
            self.business.set(figures);
        }
        self.pool_connections.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle));
        self.pool_max.set(i64::from(pool.max));
        let mut out = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %err, "metrics could not be written");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let metrics = Metrics::new().unwrap();
        let served = |seconds| Served {
            seconds,
            statements: 3,
        };
        metrics.observe("GET", "/healthz", 200, served(0.003));
        metrics.observe("GET", "/healthz", 200, served(0.2));
        let text = metrics.render(
            &PoolUse {
                connections: 2,
                idle: 1,
                max: 8,
            },
            None,
        );
        assert!(
            text.contains(
                r#"jifen_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"le="0.005"} 1"#), "{text}");
        assert!(text.contains(r#"le="+Inf"} 2"#), "{text}");
        assert!(text.contains("jifen_db_pool_max 8"), "{text}");
        assert!(
            text.contains(
                r#"jifen_db_statements_per_request_sum{method="GET",route="/healthz",status="200"} 6"#
            ),
            "{text}"
        );
    }
}
