//! `pravega-bench-native`: the `rust-native` benchmark runner of benchmarks/RUNNERS.md.
//!
//! It drives the `pravega-client` crate directly, with no binding in between, so its
//! figures are the ceiling for every binding of the same crate. Reports go to stdout,
//! one JSON line per case; progress and errors go to stderr.

mod cases;
mod cli;
mod measure;
mod streams;

use cases::{Bench, Case, PAYLOAD_BYTE};
use cli::{Command, PrefillOptions, RunOptions};
use futures::FutureExt;
use measure::{CaseReport, Sample};
use pravega_client::client_factory::ClientFactory;
use pravega_client_config::ClientConfigBuilder;
use pravega_client_shared::Scope;
use std::any::Any;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use streams::{create_scope_if_missing, create_stream, scoped_stream, write_pipelined, Names};

/// Set-up, timed part and clean-up of one repeat together. The crate retries controller
/// calls without end while the server is away, and this keeps the runner from hanging.
const REPEAT_TIME_LIMIT: Duration = Duration::from_secs(300);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("pravega-bench-native: {message}\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };

    let outcome = match command {
        Command::Run(options) => run(&options),
        Command::Prefill(options) => prefill(&options),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pravega-bench-native: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The factory owns the tokio runtime that every case runs on. It must be dropped
/// outside that runtime, so callers keep it on the main thread and `block_on` it.
fn client_factory(controller_uri: &str) -> Result<ClientFactory, String> {
    let config = ClientConfigBuilder::default()
        .controller_uri(controller_uri)
        // Stated explicitly: left unset, the crate looks for certificates in ./certs.
        .is_tls_enabled(controller_uri.starts_with("tls://"))
        .build()
        .map_err(|e| format!("invalid client configuration: {e}"))?;
    Ok(ClientFactory::new(config))
}

/// Runs every case, printing its line as soon as its repeats are done. A failed case
/// prints no line, and the others still run; the result is an error if any failed.
fn run(options: &RunOptions) -> Result<(), String> {
    let factory = client_factory(&options.controller_uri)?;
    let bench = Bench {
        factory: &factory,
        scope: Scope {
            name: options.scope.clone(),
        },
        names: Names::new(),
        read_100b_stream: options.read_100b_stream.clone(),
        read_100kb_stream: options.read_100kb_stream.clone(),
    };

    let failed_cases = factory.runtime().block_on(async {
        bench.check_scope().await?;

        let mut failed_cases = Vec::new();
        for &case in &options.cases {
            match run_case(&bench, case, options.repeats).await {
                Ok(samples) => print_report(options, case, &samples)?,
                Err(message) => {
                    eprintln!("{}: failed: {message}", case.name());
                    failed_cases.push(case.name());
                }
            }
        }
        Ok::<_, String>(failed_cases)
    })?;

    drop(bench);
    drop(factory);
    if !failed_cases.is_empty() {
        return Err(format!("failed cases: {}", failed_cases.join(", ")));
    }
    Ok(())
}

async fn run_case(bench: &Bench<'_>, case: Case, repeats: u32) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();

    for repeat in 1..=repeats {
        // The crate panics on some server errors; one case's panic must not take the
        // other cases down with it.
        let guarded = AssertUnwindSafe(bench.run_repeat(case)).catch_unwind();
        let sample = match tokio::time::timeout(REPEAT_TIME_LIMIT, guarded).await {
            Err(_) => Err(format!(
                "repeat {repeat} did not finish within {} s",
                REPEAT_TIME_LIMIT.as_secs()
            )),
            Ok(Err(panic)) => Err(format!(
                "repeat {repeat} panicked: {}",
                panic_message(&*panic)
            )),
            Ok(Ok(outcome)) => outcome.map_err(|message| format!("repeat {repeat}: {message}")),
        }?;

        eprintln!(
            "{}: repeat {repeat}/{repeats}: {:.1} {}, {:.3} us CPU per event",
            case.name(),
            sample.figure,
            case.unit().name(),
            sample.cpu_us_per_event
        );
        samples.push(sample);
    }
    Ok(samples)
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

fn print_report(options: &RunOptions, case: Case, samples: &[Sample]) -> Result<(), String> {
    let report = CaseReport {
        case: case.name(),
        client: &options.client,
        mode: case.mode(),
        unit: case.unit().name(),
        samples: samples.iter().map(|sample| sample.figure).collect(),
        client_cpu_us_per_event: samples
            .iter()
            .map(|sample| sample.cpu_us_per_event)
            .collect(),
    };
    let line = serde_json::to_string(&report).map_err(|e| format!("encode report: {e}"))?;

    // Flushed at once, so that a driver reading line by line sees each case as it ends.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("write report: {e}"))
}

/// Creates the scope and a one-segment stream when missing, then appends the events as
/// fast as the writer takes them. Prints nothing on stdout.
fn prefill(options: &PrefillOptions) -> Result<(), String> {
    let factory = client_factory(&options.controller_uri)?;
    let scope = Scope {
        name: options.scope.clone(),
    };
    let stream = scoped_stream(&scope, &options.stream);
    let payload = vec![PAYLOAD_BYTE; options.size];

    let outcome = factory.runtime().block_on(async {
        let controller = factory.controller_client();
        create_scope_if_missing(controller, &scope).await?;
        create_stream(controller, &stream).await?;

        let started = Instant::now();
        let mut writer = factory.create_event_writer(stream.clone());
        write_pipelined(&mut writer, &payload, options.count).await?;
        drop(writer);
        Ok::<_, String>(started.elapsed())
    });

    drop(factory);
    let elapsed = outcome?;
    eprintln!(
        "prefill: {} events of {} bytes appended to {stream} in {:.1} s",
        options.count,
        options.size,
        elapsed.as_secs_f64()
    );
    Ok(())
}
