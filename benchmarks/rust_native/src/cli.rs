//! The command line of RUNNERS.md, plus the hidden `prefill` helper.

use crate::cases::Case;

const MAX_EVENT_SIZE: u64 = 8 * 1024 * 1024;

pub const USAGE: &str = "\
usage: pravega-bench-native CONTROLLER_URI --client NAME --scope SCOPE
           --cases CASE[,CASE...] --repeats N [--read-100b STREAM] [--read-100kb STREAM]
       pravega-bench-native prefill CONTROLLER_URI SCOPE STREAM COUNT SIZE";

pub enum Command {
    Run(RunOptions),
    Prefill(PrefillOptions),
}

pub struct RunOptions {
    pub controller_uri: String,
    /// Echoed in every report line, as the driver named this client.
    pub client: String,
    pub scope: String,
    pub cases: Vec<Case>,
    pub repeats: u32,
    pub read_100b_stream: Option<String>,
    pub read_100kb_stream: Option<String>,
}

/// Creates SCOPE and STREAM (one segment) when missing, then appends COUNT events of
/// SIZE bytes.
pub struct PrefillOptions {
    pub controller_uri: String,
    pub scope: String,
    pub stream: String,
    pub count: u64,
    pub size: usize,
}

pub fn parse(args: &[String]) -> Result<Command, String> {
    match args.first().map(String::as_str) {
        Some("prefill") => parse_prefill(&args[1..]).map(Command::Prefill),
        Some(_) => parse_run(args).map(Command::Run),
        None => Err("missing CONTROLLER_URI".to_string()),
    }
}

fn parse_prefill(args: &[String]) -> Result<PrefillOptions, String> {
    let [controller_uri, scope, stream, count, size] = args else {
        return Err(format!("prefill takes 5 arguments, not {}", args.len()));
    };

    let count = parse_number("COUNT", count)?;
    let size = parse_number("SIZE", size)?;
    // The crate's reader cannot return an empty event, and the server refuses events
    // over 8 MiB.
    if size == 0 || size > MAX_EVENT_SIZE {
        return Err(format!(
            "SIZE must be 1 to {MAX_EVENT_SIZE} bytes, not {size}"
        ));
    }

    Ok(PrefillOptions {
        controller_uri: controller_uri.clone(),
        scope: scope.clone(),
        stream: stream.clone(),
        count,
        size: size as usize,
    })
}

fn parse_run(args: &[String]) -> Result<RunOptions, String> {
    let controller_uri = args[0].clone();
    if controller_uri.starts_with("--") {
        return Err("CONTROLLER_URI must come first".to_string());
    }

    let mut client = None;
    let mut scope = None;
    let mut case_list = None;
    let mut repeats = None;
    let mut read_100b_stream = None;
    let mut read_100kb_stream = None;
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let slot = match flag.as_str() {
            "--client" => &mut client,
            "--scope" => &mut scope,
            "--cases" => &mut case_list,
            "--repeats" => &mut repeats,
            "--read-100b" => &mut read_100b_stream,
            "--read-100kb" => &mut read_100kb_stream,
            other => return Err(format!("unknown argument {other:?}")),
        };
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        *slot = Some(value.clone());
    }

    let client = client.ok_or("--client is required")?;
    let scope = scope.ok_or("--scope is required")?;
    let case_list: String = case_list.ok_or("--cases is required")?;
    let repeats = parse_number("--repeats", &repeats.ok_or("--repeats is required")?)?;
    if repeats == 0 {
        return Err("--repeats must be at least 1".to_string());
    }

    // Every name is checked before anything runs: an unknown case is an error, not a
    // skipped line after minutes of other cases.
    let cases = case_list
        .split(',')
        .map(|name| Case::from_name(name).ok_or_else(|| format!("unknown case {name:?}")))
        .collect::<Result<Vec<Case>, String>>()?;
    for case in &cases {
        if *case == Case::Read100B && read_100b_stream.is_none() {
            return Err("read_100B needs --read-100b STREAM".to_string());
        }
        if *case == Case::Read100KB && read_100kb_stream.is_none() {
            return Err("read_100KB needs --read-100kb STREAM".to_string());
        }
    }

    Ok(RunOptions {
        controller_uri,
        client,
        scope,
        cases,
        repeats: u32::try_from(repeats).map_err(|_| "--repeats is too large".to_string())?,
        read_100b_stream,
        read_100kb_stream,
    })
}

fn parse_number(what: &str, text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{what} must be a whole number, not {text:?}"))
}
