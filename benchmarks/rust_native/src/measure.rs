//! The clock around the timed part of a repeat, the figures taken from it, and the JSON
//! line that reports a case.

use serde::Serialize;
use std::time::{Duration, Instant};

const MIB: f64 = 1_048_576.0;

/// The process's user plus system CPU time so far, over all of its threads.
///
/// RUSAGE_SELF rather than the calling thread: the crate does most of its work on the
/// tokio worker threads, and that work is part of what a client costs.
pub fn process_cpu_time() -> Duration {
    // SAFETY: `rusage` is plain old data, so all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };

    // SAFETY: `usage` is a valid, writable `rusage` that outlives the call.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(
        status, 0,
        "getrusage(RUSAGE_SELF) cannot fail with valid arguments"
    );

    timeval_duration(usage.ru_utime) + timeval_duration(usage.ru_stime)
}

fn timeval_duration(time: libc::timeval) -> Duration {
    Duration::from_secs(time.tv_sec as u64) + Duration::from_micros(time.tv_usec as u64)
}

/// Started just before the timed part of a repeat.
pub struct Clock {
    wall_start: Instant,
    cpu_start: Duration,
}

/// What one timed part took.
pub struct Measured {
    pub wall: Duration,
    pub cpu: Duration,
}

impl Clock {
    pub fn start() -> Clock {
        // CPU first, so that reading it is not counted as wall time.
        let cpu_start = process_cpu_time();
        let wall_start = Instant::now();
        Clock {
            wall_start,
            cpu_start,
        }
    }

    pub fn stop(self) -> Measured {
        let wall = self.wall_start.elapsed();
        let cpu = process_cpu_time().saturating_sub(self.cpu_start);
        Measured { wall, cpu }
    }
}

/// The unit of a case's samples, as RUNNERS.md names it.
#[derive(Clone, Copy)]
pub enum Unit {
    EventsPerSecond,
    MibPerSecond,
    LatencyMs,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::EventsPerSecond => "events_per_s",
            Unit::MibPerSecond => "mb_per_s",
            Unit::LatencyMs => "latency_ms",
        }
    }
}

/// One repeat's figures.
pub struct Sample {
    /// In the case's unit.
    pub figure: f64,
    pub cpu_us_per_event: f64,
}

impl Sample {
    /// `events` in `measured.wall`, as events per second.
    pub fn events_per_second(events: u64, measured: &Measured) -> Sample {
        Sample {
            figure: events as f64 / measured.wall.as_secs_f64(),
            cpu_us_per_event: cpu_us_per(events, measured),
        }
    }

    /// `bytes`, carried in `events`, as MiB per second.
    pub fn mib_per_second(bytes: u64, events: u64, measured: &Measured) -> Sample {
        Sample {
            figure: bytes as f64 / MIB / measured.wall.as_secs_f64(),
            cpu_us_per_event: cpu_us_per(events, measured),
        }
    }

    /// The mean latency of one of `operations` done one after another, in milliseconds;
    /// the CPU time is shared out over the `events` they carried.
    pub fn mean_latency_ms(operations: u64, events: u64, measured: &Measured) -> Sample {
        Sample {
            figure: measured.wall.as_secs_f64() * 1000.0 / operations as f64,
            cpu_us_per_event: cpu_us_per(events, measured),
        }
    }
}

fn cpu_us_per(events: u64, measured: &Measured) -> f64 {
    measured.cpu.as_secs_f64() * 1e6 / events as f64
}

/// The one JSON line printed for a case after all its repeats. Field order follows
/// RUNNERS.md.
#[derive(Serialize)]
pub struct CaseReport<'a> {
    pub case: &'a str,
    pub client: &'a str,
    pub mode: &'a str,
    pub unit: &'a str,
    pub samples: Vec<f64>,
    pub client_cpu_us_per_event: Vec<f64>,
}
