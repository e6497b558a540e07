//! `session-ready check`: the whole flow. Device, connection, questions, then
//! the report. `--answers FILE` runs it without prompts (intake coordinators);
//! otherwise the client is walked through it interactively.
mod browser;
mod interactive;
mod settings;

use crate::cli::{CheckArgs, ProbeArgs};
use crate::error::{Exit, InputError};
use crate::net::NetworkReport;
use crate::net::probe::ProbeConfig;
use crate::questionnaire::{answers_file, bank};
use crate::report::Format;
use crate::report::deliver::{Delivery, deliver};
use crate::report::model::{NetworkSource, QuestionnaireStatus};
use crate::term::{OutputFormat, Style};
use crate::visit::{FrontEnd, Measured, VisitPlan, Walked};

use settings::Settings;

pub fn run(args: CheckArgs, style: Style) -> anyhow::Result<Exit> {
    if args.list_questions {
        // The same listing as `session-ready questionnaire`; a format it has
        // no form for is refused rather than written as terminal text.
        let format = super::questionnaire::list_format(args.format)?;
        super::refuse_existing(args.output.as_deref(), false, args.force)?;
        let bytes = super::questionnaire::render(format, style)?;
        crate::fsutil::emit(args.output.as_deref(), &bytes)?;
        return Ok(Exit::Done);
    }
    if args.device {
        let report = device_report(&args).unwrap_or_else(crate::device::collect);
        let format = match args.format {
            Format::Json => OutputFormat::Json,
            _ => OutputFormat::Terminal,
        };
        let bytes = crate::device::render(&report, format, style)?;
        crate::fsutil::emit(args.output.as_deref(), &bytes)?;
        return Ok(Exit::Done);
    }
    let setup = Setup::new(&args)?;
    match &args.answers {
        Some(path) => {
            let file = answers_file::load(path, bank())?;
            if args.browser {
                return browser::whole_check(&args, style, &setup, Some(file));
            }
            let device = device_report(&args);
            let (network, network_reason) = measure(&args, &setup, style, true);
            let plan = setup.visit_plan(&args, FrontEnd::Terminal { plain: style.plain });
            let report = crate::visit::assemble(
                &VisitPlan {
                    // --client-ref wins over the file's.
                    client_ref: setup.client_ref.clone().or(file.client_ref),
                    ..plan
                },
                Walked {
                    answers: file.answers,
                    session_plan: file.session_plan,
                    status: QuestionnaireStatus::Completed,
                    region: file.region,
                },
                Measured {
                    network,
                    network_reason,
                    device,
                },
            );
            let delivery = setup.delivery(&args, style);
            deliver(&report, &delivery)?;
            // A coordinator's batch writes each report to a file and sees
            // nothing else: name on stderr each client who needs contact soon.
            if let Some(file) = delivery.output_path()
                && !crate::fsutil::is_stdout(Some(&file))
                && let Some(line) = crate::report::deliver::follow_up_notice(&report, &file)
            {
                eprintln!("{line}");
            }
            if !report.unasked_answers.is_empty() {
                // Said, never dropped quietly: the coordinator may have
                // typed an answer on the wrong line.
                let ids: Vec<&str> = report.unasked_answers.keys().map(String::as_str).collect();
                eprintln!(
                    "{}",
                    crate::safe_text::printable(&format!(
                        "Note: {}: {} answered, though the questionnaire would not have asked \
                         {} after the answers before. Kept apart in the clinician copy (\"{}\"); \
                         a yes about risk still counts.",
                        path.display(),
                        ids.join(", "),
                        if ids.len() == 1 { "it" } else { "them" },
                        crate::report::document::UNASKED_TITLE
                    ))
                );
            }
            Ok(Exit::Done)
        }
        // The whole check in the page: the questions are asked there.
        None if args.browser => browser::whole_check(&args, style, &setup, None),
        None => {
            if !crate::term::interactive() {
                return Err(InputError::NoTerminal.into());
            }
            interactive::run(&args, style, &setup)
        }
    }
}

/// The device section: with `--browser`, the camera, microphone and speakers
/// as tested in the local page; otherwise what the system shows.
fn device_report(args: &CheckArgs) -> Option<crate::device::DeviceReport> {
    if args.no_device {
        return None;
    }
    if !args.browser {
        return Some(crate::device::collect());
    }
    // The page first, so it is ready at once; the system is read afterwards.
    let media = browser::media_test(args);
    let mut facts = crate::device::collect::facts();
    facts.media = media;
    Some(crate::device::rules::rate(&facts))
}

/// What the flags and the clinic file decide before anything is asked; a
/// mistake in either is reported now, before the client answers anything.
pub(crate) struct Setup {
    /// Flags laid over the clinic file.
    settings: Settings,
    /// Where the region can come from, apart from an answers file or draft.
    regions: crate::crisis::RegionSources,
    /// `--client-ref`, checked.
    pub(crate) client_ref: Option<String>,
    /// `--network FILE`: the client's saved connection test, checked.
    saved_network: Option<(NetworkReport, NetworkSource)>,
}

impl Setup {
    fn new(args: &CheckArgs) -> Result<Setup, InputError> {
        if let Some(code) = args.region.as_deref()
            && crate::crisis::normalise_region(code).is_none()
        {
            return Err(InputError::Usage(format!(
                "--region: {}",
                crate::crisis::unknown_region(code)
            )));
        }
        let clinic = args
            .clinic
            .as_deref()
            .map(crate::clinic::load)
            .transpose()?;
        let settings = settings::lay_flags_over(clinic.as_ref(), args)?;
        super::refuse_existing(
            args.output.as_deref(),
            settings.recipient.is_some(),
            args.force,
        )?;
        super::network::validate(&Self::probe_args(&settings, args))?;
        let from_flag = args.region.is_some();
        let regions = crate::crisis::RegionSources {
            flag: settings.region.clone().filter(|_| from_flag),
            clinic: settings.region.clone().filter(|_| !from_flag),
            locale: crate::crisis::region_from_env(),
        };
        Ok(Setup {
            settings,
            regions,
            client_ref: flag_client_ref(args.client_ref.as_deref())?,
            saved_network: args.network.as_deref().map(saved_network).transpose()?,
        })
    }

    fn probe_args(settings: &Settings, args: &CheckArgs) -> ProbeArgs {
        ProbeArgs {
            server: settings.server.clone(),
            stun: settings.stun.clone(),
            max_seconds: args.probe.max_seconds,
        }
    }

    /// The connection test's settings; `shown` is false when it runs in the
    /// background behind the questions (no progress bar or step lines then).
    fn probe(&self, args: &CheckArgs, style: Style, shown: bool) -> ProbeConfig {
        let mut config =
            super::network::probe_config(&Self::probe_args(&self.settings, args), style);
        config.progress &= shown;
        config.announce &= shown;
        config
    }

    /// The servers the connection test talks to, as named in the opening. A
    /// session-ready server answers STUN itself, so only a chosen or default
    /// STUN server is named separately.
    fn contacts(&self) -> Vec<String> {
        use crate::net::probe::server_list;
        use crate::net::probe::{DEFAULT_SERVER, DEFAULT_STUN, server_host};
        let mut hosts: Vec<String> =
            server_list(self.settings.server.as_deref().unwrap_or(DEFAULT_SERVER))
                .iter()
                .map(|s| server_host(s))
                .collect();
        let stun = match (&self.settings.stun, &self.settings.server) {
            (Some(stun), _) => Some(stun.as_str()),
            (None, None) => Some(DEFAULT_STUN),
            (None, Some(_)) => None,
        };
        if let Some(stun) = stun
            && !hosts.iter().any(|h| h == stun)
        {
            hosts.push(stun.to_string());
        }
        hosts
    }

    /// The visit's plan: everything the flags and the clinic file decide,
    /// resolved once for whichever front-end draws the visit.
    pub(crate) fn visit_plan(&self, args: &CheckArgs, front_end: FrontEnd) -> VisitPlan {
        let measuring = !args.no_network && self.saved_network.is_none();
        let come_back = match front_end {
            FrontEnd::Page | FrontEnd::Hosted => {
                format!("{} check --browser", crate::term::self_command())
            }
            FrontEnd::Terminal { .. } => format!("{} check", crate::term::self_command()),
        };
        VisitPlan {
            front_end,
            regions: self.regions.clone(),
            clinic: self.settings.clinic.clone(),
            client_ref: self.client_ref.clone(),
            clinic_key: self.encrypt_to().is_some(),
            output_named: args.output.is_some(),
            servers: measuring.then(|| self.contacts()),
            media: front_end == FrontEnd::Page && !args.no_device,
            network_source: self
                .saved_network
                .as_ref()
                .map(|(_, source)| source.clone()),
            come_back,
            // Only the hosted check says when the clinic reads reports.
            office_hours: None,
        }
    }

    /// Where the visit keeps its draft and saves the report.
    pub(crate) fn files(&self, args: &CheckArgs) -> crate::visit::storage::Files {
        crate::visit::storage::Files {
            draft: args
                .draft
                .clone()
                .or_else(crate::questionnaire::draft::default_path),
            format: args.format,
            output: args.output.clone(),
            encrypt_to: self.encrypt_to().map(str::to_string),
            plain_names: false,
        }
    }

    fn encrypt_to(&self) -> Option<&str> {
        self.settings.recipient.as_deref()
    }

    fn delivery<'a>(&'a self, args: &'a CheckArgs, style: Style) -> Delivery<'a> {
        Delivery {
            format: args.format,
            view: args.view,
            output: args.output.as_deref(),
            encrypt_to: self.encrypt_to(),
            style,
        }
    }
}

/// `--network FILE`: the saved result and how old it is.
fn saved_network(path: &std::path::Path) -> Result<(NetworkReport, NetworkSource), InputError> {
    let (network, age) = crate::net::saved::load(path, chrono::Utc::now())?;
    let source = NetworkSource {
        stale: age.stale(),
        measured_at: age.measured_at,
        age_days: age.days,
    };
    Ok((network, source))
}

/// `--client-ref TEXT`, checked (shared with `report`).
pub(crate) fn flag_client_ref(text: Option<&str>) -> Result<Option<String>, InputError> {
    text.map(|t| {
        crate::safe_text::client_ref(t)
            .map_err(|why| InputError::Usage(format!("--client-ref \"{t}\": {why}.")))
    })
    .transpose()
}

/// Why the connection was not measured when --no-network is given.
const NOT_TESTED: &str = "not tested, because --no-network was given";

/// Run the connection test (or not), never failing: what could not be
/// measured carries a reason.
fn measure(args: &CheckArgs, setup: &Setup, style: Style, shown: bool) -> Probed {
    if let Some((network, _)) = &setup.saved_network {
        return (Some(network.clone()), None);
    }
    if args.no_network {
        return (None, Some(NOT_TESTED.to_string()));
    }
    run_probe(&setup.probe(args, style, shown))
}

type Probed = (Option<NetworkReport>, Option<String>);

fn run_probe(config: &ProbeConfig) -> Probed {
    match super::run_probe(config) {
        Ok(report) => (Some(report), None),
        Err(e) => (
            None,
            Some(format!("the connection test could not start ({e})")),
        ),
    }
}
