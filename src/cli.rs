//! The command-line surface (docs/interface.md). Names here are relied
//! on by scripts and clinics: add, never rename.
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::summary::SummaryFormat;
use crate::report::{Format, View};
use crate::term::OutputFormat;

/// Is a video therapy session from home a good fit right now?
///
/// session-ready checks your internet connection and your device, asks a few
/// gentle questions about privacy, safety and support, and writes a readiness
/// report you can talk through with your therapist. Every question can be
/// skipped, and your answers never leave this computer unless you choose to
/// share the report.
#[derive(Debug, Parser)]
#[command(
    name = "session-ready",
    version,
    about,
    long_about,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Screen-reader friendly output: no colour, no animation, no box drawing.
    #[arg(long, global = true, env = "SESSION_READY_PLAIN")]
    pub plain: bool,

    /// Never use colour (the NO_COLOR environment variable is honoured too).
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole readiness check: device, connection, a few questions, then your report.
    ///
    /// Takes about 10 minutes. You can skip any question, go back, pause and
    /// come back later, or leave at once. Nothing is saved unless you agree.
    Check(CheckArgs),
    /// Test only your internet connection for a video call (about 10 seconds).
    ///
    /// Measures delay (latency), how steady it is (jitter), lost audio packets,
    /// download and upload speed, and delay while the line is busy.
    Network(NetworkArgs),
    /// Run a measurement server that a clinic can host for its clients.
    ///
    /// Answers HTTP on ADDR (TCP) and STUN binding requests on the same ADDR (UDP).
    Serve(ServeArgs),
    /// Make a link that invites one client to the check hosted by `serve --clinic`.
    ///
    /// The link is signed with the clinic's secret (created owner-only on first
    /// use), opens one check once, and expires.
    Invite(InviteArgs),
    /// Show a saved report again, in another format or as the client copy.
    Report(ReportArgs),
    /// Summarise many saved reports for an intake coordinator: one row per client, urgent first.
    Summarize(SummarizeArgs),
    /// Make a key pair for a clinic, so clients can encrypt the clinician copy to it.
    ///
    /// Writes the private key (keep it with the clinic) and prints the public
    /// key (age1…) to give to clients or to put in the clinic file. Compatible
    /// with the `age` tool.
    Keygen(KeygenArgs),
    /// Write the questions: on screen, as JSON, or as the HL7 FHIR R4 Questionnaire.
    ///
    /// `--format fhir` writes the Questionnaire that the FHIR reports answer
    /// (the one published as schema/questionnaire.fhir.json), for a record system.
    Questionnaire(QuestionnaireArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        /// The shell to generate completions for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command into a folder.
    Man {
        /// Write session-ready.1 and one page per subcommand into this folder.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// Where to measure the connection.
#[derive(Debug, Args, Clone)]
pub struct ProbeArgs {
    /// Measurement server (a session-ready `serve` or a compatible public speed-test
    /// endpoint); several, separated by commas, and the nearest is used.
    #[arg(long, value_name = "URL[,URL…]", env = "SESSION_READY_SERVER")]
    pub server: Option<String>,
    /// STUN server for the audio-like UDP test [default: the server's own host and
    /// port when it is a session-ready server, else a public STUN server].
    #[arg(long, value_name = "HOST:PORT", env = "SESSION_READY_STUN")]
    pub stun: Option<String>,
    /// Hard limit on the whole connection test, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0)]
    pub max_seconds: f64,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Answer from a file instead of questions on screen (for intake coordinators).
    /// Format: {"answers": {"<question id>": "<option id>" | "skipped"}, "region": "GB"}.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Print every question (id, section, text, why we ask, option ids) and stop.
    #[arg(long)]
    pub list_questions: bool,
    /// Check only this device (camera, microphone, memory, processor, battery) and stop.
    #[arg(long)]
    pub device: bool,
    /// Do the whole check in your web browser (with --device: only the camera,
    /// microphone and speaker test): a page on this computer only, at an address
    /// with a secret code, printed here and opened for you. Pictures and sound
    /// never leave the page, and nothing is saved unless you choose to.
    #[arg(long, conflicts_with_all = ["no_device", "list_questions"])]
    pub browser: bool,
    /// With --browser: print the page's address, but do not open the browser.
    #[arg(long, requires = "browser")]
    pub no_open: bool,
    /// With --browser: stop the page when nothing happens there for this long
    /// (default: 30 minutes for the whole check, 15 for the media test alone).
    #[arg(long, hide = true, value_name = "SECONDS")]
    pub page_idle_seconds: Option<u64>,
    /// With --browser: stop the page this long after it stops answering
    /// (default: 30 minutes for the whole check, 150 s for the media test alone).
    #[arg(long, hide = true, value_name = "SECONDS")]
    pub page_closed_seconds: Option<u64>,
    /// Skip the connection test (the internet criterion is then reported as unknown).
    #[arg(long)]
    pub no_network: bool,
    /// Use the client's saved connection test instead of testing this computer's
    /// (a file from `session-ready network --format json --output FILE`; with --answers).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "no_network",
        requires = "answers"
    )]
    pub network: Option<PathBuf>,
    /// Skip the device check (for example when a coordinator enters a client's answers).
    #[arg(long)]
    pub no_device: bool,
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Country for crisis phone numbers, as a two-letter code (GB, US, IE, …) [default: from your locale].
    #[arg(long, value_name = "CC")]
    pub region: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    pub format: Format,
    /// Save the report here (written privately: only your user account can read it).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the --output file if it already exists (otherwise nothing is written).
    #[arg(long)]
    pub force: bool,
    /// Which copy to show or save: the client copy leaves risk answers out.
    #[arg(long, value_enum)]
    pub view: Option<View>,
    /// Clinic settings file (recipient key, server URL, phone number for dropped calls, region).
    #[arg(long, value_name = "FILE")]
    pub clinic: Option<PathBuf>,
    /// Encrypt the clinician copy to this age recipient (age1…) so only the clinic can open it.
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Option<String>,
    /// The clinic's reference for the client (a file number or initials), printed at
    /// the top of every page and format of the report. Stays on this computer.
    #[arg(long, value_name = "TEXT")]
    pub client_ref: Option<String>,
    /// Where a paused check is kept, if you agree to keep one [default: your data folder].
    #[arg(long, value_name = "FILE", env = "SESSION_READY_DRAFT")]
    pub draft: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Terminal)]
    pub format: OutputFormat,
    /// Save the result here.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, for HTTP (TCP) and STUN (UDP), e.g. 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Most connections served at once; when all are busy a stalled one, or an
    /// unproductive one of the address holding most, makes room, else
    /// newcomers wait a few seconds, then get 503.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_connections: usize,
    /// Connections one client address (an IPv6 /64) may hold: three connection
    /// tests at once behind one NAT (a test opens 9, 17 on a long round trip).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub per_address_connections: u32,
    /// Downloads and uploads one client address may run at once (a test runs 4,
    /// 8 on a long round trip).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub per_address_streams: u32,
    /// Megabytes one client address may move a minute, down and up together
    /// (a test moves at most 56, 168 on a long round trip); beyond, 429 with Retry-After.
    #[arg(long, value_name = "MB", default_value_t = 600)]
    pub per_address_mb_per_minute: u64,
    /// STUN replies a second in all (each address gets at most 200).
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pub stun_replies_per_second: u32,
    /// STUN replies a second to one connection test's call-like stream (it
    /// sends 800 a second, from an address and port that proved it receives there).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub stun_verified_per_second: u32,
    /// STUN replies a second to all connection tests' streams together (50 tests at once).
    #[arg(long, value_name = "N", default_value_t = 40000)]
    pub stun_verified_total_per_second: u32,
    /// STUN cookie requests answered a second per client address (an IPv6 /64):
    /// a test asks every 20 ms until its first reply.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub stun_cookies_per_second: u32,
    /// Also serve Prometheus text metrics at http://ADDR/metrics. Keep ADDR
    /// private (e.g. 127.0.0.1:9090), apart from --listen.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// STUN port to announce to clients when a proxy or NAT maps it to another port
    /// [default: the port of --listen].
    #[arg(long, value_name = "PORT")]
    pub public_stun_port: Option<u16>,
    /// Also host the whole check as web pages for clients invited with
    /// `session-ready invite` (needs --inbox; the file's recipient locks every report).
    #[arg(long, value_name = "FILE", requires = "inbox")]
    pub clinic: Option<PathBuf>,
    /// Where hosted reports arrive, encrypted (`ID.age`), for `summarize`.
    #[arg(long, value_name = "DIR", requires = "clinic")]
    pub inbox: Option<PathBuf>,
    /// The invitation secret `invite` made [default: as for `invite`].
    #[arg(long, value_name = "FILE", requires = "clinic")]
    pub secret: Option<PathBuf>,
    /// Hosted visits in progress at once; beyond, a calm "try again in a few minutes".
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_visits: usize,
    /// Serve HTTPS itself with this PEM certificate chain (needs --tls-key);
    /// without it, put a TLS proxy in front (docs/hosting.md).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A program run (without a shell) for every report that arrives, with its
    /// urgency level, `urgent`, the time and the client reference; never an answer.
    #[arg(long, value_name = "PROGRAM", requires = "clinic")]
    pub on_report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// The clinic file (its recipient is what hosted reports are encrypted to).
    #[arg(long, value_name = "FILE")]
    pub clinic: PathBuf,
    /// The address clients reach `serve` at, e.g. https://check.example.org.
    #[arg(long, value_name = "BASE")]
    pub url: String,
    /// The clinic's own short reference for the client (shown to the clinic only).
    #[arg(long, value_name = "REF")]
    pub client_ref: Option<String>,
    /// How long the link stays open: 30m, 48h, 7d (at most 90d).
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub expires: String,
    /// The signing secret, shared with `serve --secret` [default: invitation-secret
    /// in session-ready's data folder]. Created, owner-only, on first use.
    #[arg(long, value_name = "FILE")]
    pub secret: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A saved JSON report (or an age-encrypted one, with --identity).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    pub format: Format,
    /// Write here instead of the screen (written privately).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the --output file if it already exists (otherwise nothing is written).
    #[arg(long)]
    pub force: bool,
    /// Which copy: the client copy leaves risk answers out [default: the file's own copy].
    #[arg(long, value_enum)]
    pub view: Option<View>,
    /// age identity file to open an encrypted clinician copy.
    #[arg(long, value_name = "KEYFILE")]
    pub identity: Option<PathBuf>,
    /// The clinic's reference for the client (a file number or initials), printed at
    /// the top of every page and format; replaces one saved in the report.
    #[arg(long, value_name = "TEXT")]
    pub client_ref: Option<String>,
    /// Encrypt the output for a clinic (its age public key, age1…).
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Option<String>,
    /// Refuse (exit code 2) a report whose saved outcome, urgency, criteria or
    /// crisis numbers differ from what its answers give, instead of showing the
    /// worked-out ones with a note.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct SummarizeArgs {
    /// Report files, or folders holding them.
    #[arg(required = true, value_name = "DIR|FILE")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Terminal)]
    pub format: SummaryFormat,
    /// age identity file for encrypted reports.
    #[arg(long, value_name = "KEYFILE")]
    pub identity: Option<PathBuf>,
    /// Write here instead of the screen (written privately).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the --output file if it already exists (otherwise nothing is written).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct QuestionnaireArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = QuestionsFormat::Terminal)]
    pub format: QuestionsFormat,
    /// Write here instead of the screen.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the --output file if it already exists (otherwise nothing is written).
    #[arg(long)]
    pub force: bool,
}

/// Forms of the question list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QuestionsFormat {
    /// Readable on screen.
    Terminal,
    /// `session-ready/questions/v1`, as `check --list-questions --format json`.
    Json,
    /// The HL7 FHIR R4 Questionnaire.
    Fhir,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write the private key here (written privately; an existing file is never replaced).
    #[arg(long, short, value_name = "KEYFILE")]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
