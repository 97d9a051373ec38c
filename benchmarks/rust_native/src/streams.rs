//! Streams and names that the cases set up and clean up outside the clock, and the
//! pipelined write that both the write cases and `prefill` use.

use pravega_client::error::Error as WriterError;
use pravega_client::event::EventWriter;
use pravega_client_shared::{
    Retention, RetentionType, ScaleType, Scaling, Scope, ScopedStream, Stream, StreamConfiguration,
};
use pravega_controller_client::ControllerClient;
use std::cell::Cell;
use std::collections::VecDeque;
use tokio::sync::oneshot;

/// Hands out stream, reader group and reader names unique to this run: the process id
/// plus a counter. Pravega names allow letters, digits, '-' and '.'.
pub struct Names {
    prefix: String,
    issued: Cell<u64>,
}

impl Names {
    pub fn new() -> Names {
        Names {
            prefix: format!("native-{}", std::process::id()),
            issued: Cell::new(0),
        }
    }

    pub fn next(&self, kind: &str) -> String {
        let number = self.issued.get() + 1;
        self.issued.set(number);
        format!("{}-{kind}-{number}", self.prefix)
    }
}

pub fn scoped_stream(scope: &Scope, stream: &str) -> ScopedStream {
    ScopedStream {
        scope: scope.clone(),
        stream: Stream {
            name: stream.to_string(),
        },
    }
}

/// Always one segment, kept forever: every case reads or writes a single segment.
pub fn one_segment_config(stream: &ScopedStream) -> StreamConfiguration {
    StreamConfiguration {
        scoped_stream: stream.clone(),
        scaling: Scaling {
            scale_type: ScaleType::FixedNumSegments,
            target_rate: 0,
            scale_factor: 0,
            min_num_segments: 1,
        },
        retention: Retention {
            retention_type: RetentionType::None,
            retention_param: 0,
        },
        tags: None,
    }
}

pub async fn create_scope_if_missing(
    controller: &dyn ControllerClient,
    scope: &Scope,
) -> Result<(), String> {
    controller
        .create_scope(scope)
        .await
        .map(|_created| ())
        .map_err(|e| format!("create scope {}: {}", scope.name, e.error))
}

/// Creates `stream` with one segment. Returns false when it existed already.
pub async fn create_stream(
    controller: &dyn ControllerClient,
    stream: &ScopedStream,
) -> Result<bool, String> {
    controller
        .create_stream(&one_segment_config(stream))
        .await
        .map_err(|e| format!("create stream {stream}: {}", e.error))
}

pub async fn stream_exists(
    controller: &dyn ControllerClient,
    stream: &ScopedStream,
) -> Result<bool, String> {
    controller
        .check_stream_exists(stream)
        .await
        .map_err(|e| format!("check stream {stream}: {}", e.error))
}

/// Seals, then deletes: the controller deletes only sealed streams.
pub async fn seal_and_delete(
    controller: &dyn ControllerClient,
    stream: &ScopedStream,
) -> Result<(), String> {
    controller
        .seal_stream(stream)
        .await
        .map_err(|e| format!("seal stream {stream}: {}", e.error))?;
    controller
        .delete_stream(stream)
        .await
        .map_err(|e| format!("delete stream {stream}: {}", e.error))?;
    Ok(())
}

type Ack = oneshot::Receiver<Result<(), WriterError>>;

/// The acknowledgements of events in flight, oldest first.
///
/// Every event's answer is checked, because `EventWriter::flush` alone is not enough:
/// when the writer notices a lost event while it accepts a later one, it reports that
/// only through the later event's answer. Answers that have arrived are taken off the
/// front as writes go on, so the queue holds only what is still in flight.
#[derive(Default)]
struct AckQueue {
    in_flight: VecDeque<Ack>,
}

impl AckQueue {
    /// Adds `ack`, then takes every answer that has already arrived off the front.
    fn push(&mut self, ack: Ack) -> Result<(), String> {
        self.in_flight.push_back(ack);

        while let Some(oldest) = self.in_flight.front_mut() {
            match oldest.try_recv() {
                Err(oneshot::error::TryRecvError::Empty) => break,
                answer => {
                    self.in_flight.pop_front();
                    check_answer(answer.map_err(|_| ()))?;
                }
            }
        }
        Ok(())
    }

    async fn wait_for_all(&mut self) -> Result<(), String> {
        while let Some(oldest) = self.in_flight.pop_front() {
            check_answer(oldest.await.map_err(|_| ()))?;
        }
        Ok(())
    }
}

/// `Err(())` outside means the writer dropped the event without answering.
fn check_answer(answer: Result<Result<(), WriterError>, ()>) -> Result<(), String> {
    match answer {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("write failed: {error}")),
        Err(()) => Err("the writer stopped before acknowledging an event".to_string()),
    }
}

/// Writes one event and waits for the server's acknowledgement.
pub async fn write_acknowledged(writer: &mut EventWriter, payload: &[u8]) -> Result<(), String> {
    let ack = writer.write_event(payload.to_vec()).await;
    check_answer(ack.await.map_err(|_| ()))
}

/// Writes `count` copies of `payload` without waiting between them, then flushes and
/// checks every acknowledgement.
///
/// Awaiting `write_event` only hands the event to the writer's background task; that
/// await blocks only when 16 MiB are already queued. So many events are in flight at
/// once and the task packs them into large appends.
pub async fn write_pipelined(
    writer: &mut EventWriter,
    payload: &[u8],
    count: u64,
) -> Result<(), String> {
    let mut acks = AckQueue::default();

    for _ in 0..count {
        // The crate takes ownership of each event, so each one is a fresh copy, as it
        // would be for any caller whose bytes live elsewhere.
        let ack = writer.write_event(payload.to_vec()).await;
        acks.push(ack)?;
    }

    writer
        .flush()
        .await
        .map_err(|e| format!("flush failed: {e}"))?;
    acks.wait_for_all().await
}
