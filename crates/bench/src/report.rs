//! What a run measured: throughput, latency percentiles, errors, and the server's CPU
//! and memory read from /proc (when its pid is given).

use std::time::Duration;

#[derive(Default)]
pub struct Samples {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
}

impl Samples {
    pub fn merge(&mut self, other: Samples) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
    }
}

/// CPU ticks and memory of a process, from /proc.
#[derive(Clone, Copy, Default)]
pub struct ProcStat {
    pub cpu_ticks: u64,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
}

pub fn proc_stat(pid: Option<u32>) -> Option<ProcStat> {
    let pid = pid?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may contain spaces, closed by ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Some(ProcStat {
        cpu_ticks: utime + stime,
        rss_kib: kib("VmRSS:"),
        peak_rss_kib: kib("VmHWM:"),
    })
}

pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub struct Report {
    pub workload: String,
    pub ops: u64,
    pub elapsed: Duration,
    pub samples: Samples,
    pub before: Option<ProcStat>,
    pub after: Option<ProcStat>,
    pub extra: Vec<(String, serde_json::Value)>,
}

impl Report {
    pub fn print(mut self, json: bool) {
        self.samples.latencies_us.sort_unstable();
        let l = &self.samples.latencies_us;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let ticks_per_sec = 100.0; // USER_HZ on Linux
        let cpu_us_per_op = match (self.before, self.after) {
            (Some(b), Some(a)) if self.ops > 0 => Some(
                (a.cpu_ticks.saturating_sub(b.cpu_ticks)) as f64 / ticks_per_sec * 1e6
                    / self.ops as f64,
            ),
            _ => None,
        };
        let mut line = serde_json::json!({
            "workload": self.workload,
            "ops": self.ops,
            "seconds": (secs * 1000.0).round() / 1000.0,
            "ops_per_sec": (self.ops as f64 / secs).round(),
            "p50_us": percentile(l, 50.0),
            "p99_us": percentile(l, 99.0),
            "p999_us": percentile(l, 99.9),
            "max_us": l.last().copied().unwrap_or(0),
            "errors": self.samples.errors,
            "server_cpu_us_per_op": cpu_us_per_op.map(|v| (v * 10.0).round() / 10.0),
            "server_rss_kib": self.after.map(|a| a.rss_kib),
            "server_peak_rss_kib": self.after.map(|a| a.peak_rss_kib),
        });
        for (k, v) in self.extra {
            line[k] = v;
        }
        if json {
            println!("{line}");
            return;
        }
        println!(
            "{:<10} {:>9} ops {:>8.2} s {:>10.0} ops/s  p50 {:>6} µs  p99 {:>7} µs  p999 {:>7} µs  errors {}",
            line["workload"].as_str().unwrap_or(""),
            self.ops,
            secs,
            self.ops as f64 / secs,
            percentile(l, 50.0),
            percentile(l, 99.0),
            percentile(l, 99.9),
            self.samples.errors
        );
        if let Some(cpu) = cpu_us_per_op {
            println!(
                "           server CPU {cpu:.1} µs/op, RSS {} KiB (peak {} KiB)",
                self.after.map_or(0, |a| a.rss_kib),
                self.after.map_or(0, |a| a.peak_rss_kib)
            );
        }
        println!("JSON {line}");
    }
}
