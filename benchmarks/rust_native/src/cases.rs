//! The cases of RUNNERS.md, each over the crate's fastest honest path.
//!
//! A repeat sets up outside the clock, times only what the case is about, and cleans up
//! outside the clock again.

use crate::measure::{Clock, Measured, Sample, Unit};
use crate::streams::{
    create_stream, scoped_stream, seal_and_delete, stream_exists, write_acknowledged,
    write_pipelined, Names,
};
use pravega_client::client_factory::ClientFactory;
use pravega_client::event::reader_group::ReaderGroupConfigBuilder;
use pravega_client::event::{EventReader, TransactionalEventWriter};
use pravega_client_shared::{Scope, ScopedStream, Timestamp, WriterId};
use pravega_controller_client::ControllerClient;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SMALL_EVENT_SIZE: usize = 100;
const LARGE_EVENT_SIZE: usize = 1_048_576;
const ACKED_EVENTS: u64 = 1_000;
const PIPELINED_EVENTS: u64 = 200_000;
const LARGE_EVENTS: u64 = 64;
const TRANSACTIONS: u64 = 10;
const EVENTS_PER_TRANSACTION: u64 = 100;
const CREATED_STREAMS: u64 = 20;
/// Written before the clock starts, so that the timed part does not pay for looking up
/// the segment and connecting to the segment store.
const WARM_UP_EVENTS: u64 = 10;

/// What the pre-filled streams hold, as RUNNERS.md fixes it.
const READ_100B: Expected = Expected {
    events: 1_000_000,
    event_size: 100,
};
const READ_100KB: Expected = Expected {
    events: 10_000,
    event_size: 102_400,
};
/// A read repeat that has not read everything by then fails the runner.
const READ_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Every payload byte; its value does not matter.
pub const PAYLOAD_BYTE: u8 = b'x';

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Case {
    WriteAcked,
    WritePipelined,
    Write1MiB,
    Read100B,
    Read100KB,
    Transactions,
    CreateStream,
}

impl Case {
    const ALL: [Case; 7] = [
        Case::WriteAcked,
        Case::WritePipelined,
        Case::Write1MiB,
        Case::Read100B,
        Case::Read100KB,
        Case::Transactions,
        Case::CreateStream,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Case::WriteAcked => "write_100B_acked",
            Case::WritePipelined => "write_100B_pipelined",
            Case::Write1MiB => "write_1MiB",
            Case::Read100B => "read_100B",
            Case::Read100KB => "read_100KB",
            Case::Transactions => "txn_100x100B",
            Case::CreateStream => "create_stream",
        }
    }

    pub fn from_name(name: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|case| case.name() == name)
    }

    pub fn unit(self) -> Unit {
        match self {
            Case::WriteAcked | Case::WritePipelined | Case::Read100B => Unit::EventsPerSecond,
            Case::Write1MiB | Case::Read100KB => Unit::MibPerSecond,
            Case::Transactions | Case::CreateStream => Unit::LatencyMs,
        }
    }

    /// The path through the crate, in a few words.
    pub fn mode(self) -> &'static str {
        match self {
            Case::WriteAcked => "EventWriter write_event, each ack awaited",
            Case::WritePipelined | Case::Write1MiB => {
                "EventWriter write_event, acks left in flight, then flush"
            }
            Case::Read100B | Case::Read100KB => {
                "EventReader acquire_segment, iterate slice, release_segment"
            }
            Case::Transactions => "TransactionalEventWriter begin, write_event, commit",
            Case::CreateStream => "controller create_stream, fixed 1 segment",
        }
    }
}

/// The events a pre-filled stream holds.
#[derive(Clone, Copy)]
struct Expected {
    events: u64,
    event_size: u64,
}

impl Expected {
    fn bytes(self) -> u64 {
        self.events * self.event_size
    }
}

/// What a read repeat has counted so far. Kept outside the timed future, so that a
/// repeat that runs out of time can still say how far it got.
#[derive(Default)]
struct ReadTally {
    events: u64,
    checksum: u64,
}

/// Everything a repeat needs: the client, the scope, and where the pre-filled streams are.
pub struct Bench<'a> {
    pub factory: &'a ClientFactory,
    pub scope: Scope,
    pub names: Names,
    pub read_100b_stream: Option<String>,
    pub read_100kb_stream: Option<String>,
}

impl Bench<'_> {
    fn controller(&self) -> &dyn ControllerClient {
        self.factory.controller_client()
    }

    /// Fails when the scope does not exist. Called before any case, it also connects the
    /// controller client, so that no timed part pays for that.
    pub async fn check_scope(&self) -> Result<(), String> {
        let exists = self
            .controller()
            .check_scope_exists(&self.scope)
            .await
            .map_err(|e| format!("check scope {}: {}", self.scope.name, e.error))?;
        if !exists {
            return Err(format!("scope {} does not exist", self.scope.name));
        }
        Ok(())
    }

    pub async fn run_repeat(&self, case: Case) -> Result<Sample, String> {
        match case {
            Case::WriteAcked | Case::WritePipelined | Case::Write1MiB | Case::Transactions => {
                self.run_write_repeat(case).await
            }
            Case::Read100B => {
                let stream = self.read_100b_stream.as_deref().expect("checked by cli");
                let measured = self.read_whole_stream(stream, READ_100B).await?;
                Ok(Sample::events_per_second(READ_100B.events, &measured))
            }
            Case::Read100KB => {
                let stream = self.read_100kb_stream.as_deref().expect("checked by cli");
                let measured = self.read_whole_stream(stream, READ_100KB).await?;
                Ok(Sample::mib_per_second(
                    READ_100KB.bytes(),
                    READ_100KB.events,
                    &measured,
                ))
            }
            Case::CreateStream => self.create_streams().await,
        }
    }

    /// Runs a write case on a fresh one-segment stream, then seals and deletes it.
    async fn run_write_repeat(&self, case: Case) -> Result<Sample, String> {
        let stream = scoped_stream(&self.scope, &self.names.next("stream"));
        if !create_stream(self.controller(), &stream).await? {
            return Err(format!("stream {stream} existed already"));
        }

        let outcome = self.write_case(case, &stream).await;

        // Even after a failure: the in-memory server keeps every written byte on its heap
        // until the stream is deleted.
        let removed = seal_and_delete(self.controller(), &stream).await;
        let sample = outcome?;
        removed?;
        Ok(sample)
    }

    async fn write_case(&self, case: Case, stream: &ScopedStream) -> Result<Sample, String> {
        match case {
            Case::WriteAcked => self.write_acked(stream).await,
            Case::WritePipelined => {
                let measured = self
                    .timed_pipelined_write(stream, SMALL_EVENT_SIZE, PIPELINED_EVENTS)
                    .await?;
                Ok(Sample::events_per_second(PIPELINED_EVENTS, &measured))
            }
            Case::Write1MiB => {
                let measured = self
                    .timed_pipelined_write(stream, LARGE_EVENT_SIZE, LARGE_EVENTS)
                    .await?;
                let bytes = LARGE_EVENTS * LARGE_EVENT_SIZE as u64;
                Ok(Sample::mib_per_second(bytes, LARGE_EVENTS, &measured))
            }
            Case::Transactions => self.write_transactions(stream).await,
            _ => unreachable!("run_repeat sends only write cases here"),
        }
    }

    async fn write_acked(&self, stream: &ScopedStream) -> Result<Sample, String> {
        let payload = vec![PAYLOAD_BYTE; SMALL_EVENT_SIZE];
        let mut writer = self.factory.create_event_writer(stream.clone());
        write_pipelined(&mut writer, &payload, WARM_UP_EVENTS).await?;

        let clock = Clock::start();
        for _ in 0..ACKED_EVENTS {
            write_acknowledged(&mut writer, &payload).await?;
        }
        let measured = clock.stop();

        Ok(Sample::events_per_second(ACKED_EVENTS, &measured))
    }

    /// Writes `count` events of `event_size` bytes pipelined; the clock stops once all
    /// are acknowledged.
    async fn timed_pipelined_write(
        &self,
        stream: &ScopedStream,
        event_size: usize,
        count: u64,
    ) -> Result<Measured, String> {
        let warm_up_payload = vec![PAYLOAD_BYTE; SMALL_EVENT_SIZE];
        let payload = vec![PAYLOAD_BYTE; event_size];
        let mut writer = self.factory.create_event_writer(stream.clone());
        write_pipelined(&mut writer, &warm_up_payload, WARM_UP_EVENTS).await?;

        let clock = Clock::start();
        write_pipelined(&mut writer, &payload, count).await?;
        Ok(clock.stop())
    }

    async fn write_transactions(&self, stream: &ScopedStream) -> Result<Sample, String> {
        let payload = vec![PAYLOAD_BYTE; SMALL_EVENT_SIZE];
        let writer_id = new_writer_id();
        let mut writer = self
            .factory
            .create_transactional_event_writer(stream.clone(), writer_id)
            .await;
        // A small transaction before the clock connects to the controller's transaction
        // calls and to the segment store.
        run_transaction(&mut writer, &payload, WARM_UP_EVENTS).await?;

        let clock = Clock::start();
        for _ in 0..TRANSACTIONS {
            run_transaction(&mut writer, &payload, EVENTS_PER_TRANSACTION).await?;
        }
        let measured = clock.stop();

        let events = TRANSACTIONS * EVENTS_PER_TRANSACTION;
        Ok(Sample::mean_latency_ms(TRANSACTIONS, events, &measured))
    }

    /// Reads the pre-filled `stream_name` from its head through a new reader group with
    /// one reader, and checks that it held what `expected` says.
    async fn read_whole_stream(
        &self,
        stream_name: &str,
        expected: Expected,
    ) -> Result<Measured, String> {
        let stream = scoped_stream(&self.scope, stream_name);
        // The crate panics when asked for a group over a missing stream.
        if !stream_exists(self.controller(), &stream).await? {
            return Err(format!("stream {stream} does not exist; pre-fill it first"));
        }
        let group_name = self.names.next("group");
        let group_config = ReaderGroupConfigBuilder::default()
            .read_from_head_of_stream(stream.clone())
            .build();
        let group = self
            .factory
            .create_reader_group_with_config(group_name.clone(), group_config, self.scope.clone())
            .await;
        let mut reader = group.create_reader(self.names.next("reader")).await;

        let mut tally = ReadTally::default();
        let clock = Clock::start();
        let read = tokio::time::timeout(
            READ_TIME_LIMIT,
            read_events(&mut reader, &mut tally, expected.events),
        )
        .await;
        let measured = clock.stop();

        // The group and its reader are removed so that the server's state does not grow
        // with every repeat.
        let offline = reader.reader_offline().await;
        drop(reader);
        drop(group);
        let deleted = self
            .factory
            .delete_reader_group(self.scope.clone(), group_name.clone())
            .await;

        read.map_err(|_| {
            format!(
                "read only {} of {} events within {} s",
                tally.events,
                expected.events,
                READ_TIME_LIMIT.as_secs()
            )
        })??;
        if tally.events != expected.events || tally.checksum != expected.bytes() {
            return Err(format!(
                "{stream} held {} events of {} bytes in all, not {} events of {} bytes",
                tally.events, tally.checksum, expected.events, expected.event_size
            ));
        }
        offline.map_err(|e| format!("take reader offline: {e}"))?;
        deleted.map_err(|e| format!("delete reader group {group_name}: {e}"))?;
        Ok(measured)
    }

    /// Creates streams one after another; the sample is the mean latency of one.
    async fn create_streams(&self) -> Result<Sample, String> {
        let streams: Vec<ScopedStream> = (0..CREATED_STREAMS)
            .map(|_| scoped_stream(&self.scope, &self.names.next("created")))
            .collect();

        let mut created_count = 0;
        let clock = Clock::start();
        let outcome = async {
            for stream in &streams {
                if !create_stream(self.controller(), stream).await? {
                    return Err(format!("stream {stream} existed already"));
                }
                created_count += 1;
            }
            Ok(())
        }
        .await;
        let measured = clock.stop();

        let mut removed = Ok(());
        for stream in &streams[..created_count] {
            let result = seal_and_delete(self.controller(), stream).await;
            removed = removed.and(result);
        }
        outcome?;
        removed?;
        Ok(Sample::mean_latency_ms(
            CREATED_STREAMS,
            CREATED_STREAMS,
            &measured,
        ))
    }
}

/// The process id in the high bits and the time in the low ones: unique enough for
/// the server to tell this run's writers from any other's.
fn new_writer_id() -> WriterId {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    WriterId(u128::from(std::process::id()) << 96 | (nanos & ((1u128 << 96) - 1)))
}

/// Begins a transaction, writes `events` copies of `payload` into it, and commits it.
///
/// `commit` first waits for every event's acknowledgement, then returns once the
/// controller has accepted the commit; the server merges the transaction afterwards.
async fn run_transaction(
    writer: &mut TransactionalEventWriter,
    payload: &[u8],
    events: u64,
) -> Result<(), String> {
    let mut transaction = writer
        .begin()
        .await
        .map_err(|e| format!("begin transaction: {e}"))?;

    for _ in 0..events {
        transaction
            .write_event(None, payload.to_vec())
            .await
            .map_err(|e| format!("write to transaction: {e}"))?;
    }

    // The timestamp only feeds watermarks, which no case reads; 0 is what the crate's
    // own example passes.
    transaction
        .commit(Timestamp(0))
        .await
        .map_err(|e| format!("commit transaction: {e}"))
}

/// Reads whole slices until at least `wanted` events are counted, adding each event's
/// length to the checksum.
async fn read_events(
    reader: &mut EventReader,
    tally: &mut ReadTally,
    wanted: u64,
) -> Result<(), String> {
    while tally.events < wanted {
        let acquired = reader
            .acquire_segment()
            .await
            .map_err(|e| format!("acquire segment: {e}"))?;
        // None: no data arrived within the crate's own one-second wait; ask again.
        let Some(mut slice) = acquired else {
            continue;
        };

        for event in &mut slice {
            tally.events += 1;
            tally.checksum += event.value.len() as u64;
        }

        // An event cut off at the end of the slice stays with the reader, which completes
        // it with the next data it fetches.
        reader
            .release_segment(slice)
            .await
            .map_err(|e| format!("release segment: {e}"))?;
    }
    Ok(())
}
