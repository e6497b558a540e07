//! What a visit keeps: the draft of a paused check and the saved report,
//! behind one small trait so the visit itself stays free of I/O (tests use
//! an in-memory store). [`Files`] is the store on this computer: owner-only,
//! atomic files (`questionnaire::draft`, `report::deliver`), with one saving
//! path whose checks apply to the file actually written.
use std::path::{Path, PathBuf};

use crate::questionnaire::draft::{self, Draft};
use crate::report::deliver::{Delivery, deliver};
use crate::report::saving;
use crate::report::{Format, Report, View};

/// What is kept from an earlier check.
#[derive(Debug, Clone, PartialEq)]
pub enum DraftPlace {
    /// There is nowhere to keep answers on this system.
    Nowhere,
    /// Nothing kept.
    Empty,
    Kept(Box<Draft>),
    /// Something is there but cannot be picked up; `regular`: an ordinary
    /// file that can be offered for deletion.
    Unreadable {
        why: String,
        regular: bool,
    },
}

/// Why a report was not saved.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveProblem {
    /// The name cannot be used (taken, or not a file name): ask for another.
    Name(String),
    /// Writing failed; the report is still here.
    Failed(String),
}

/// Where a visit keeps things.
pub trait Storage {
    fn draft(&self) -> DraftPlace;
    /// With consent, bring the draft up to date; without it, make sure none
    /// stays behind.
    fn keep(&mut self, keep: bool, draft: &Draft) -> Result<(), String>;
    /// Delete the draft (finished, or starting again).
    fn forget(&mut self) -> Result<(), String>;
    /// Answers are kept for next time.
    fn kept(&self) -> bool;
    /// Where a draft lives, as said to the person; `None` if nowhere.
    fn place(&self) -> Option<String>;
    /// A file name for a saved copy that replaces nothing.
    fn suggested_name(&self, watched: bool) -> String;
    /// Save `view` of `report` under `name` (`None`: the name given on the
    /// command line). Returns the name written, as said to the person.
    fn save(
        &mut self,
        report: &Report,
        view: View,
        name: Option<&str>,
        watched: bool,
    ) -> Result<String, SaveProblem>;
}

/// Files on this computer.
#[derive(Debug, Clone)]
pub struct Files {
    /// Where a draft lives (`--draft`, or the data folder); `None` if nowhere.
    pub draft: Option<PathBuf>,
    /// `--format` (a screen format saves as JSON).
    pub format: Format,
    /// `--output`, checked by the command before anything was asked.
    pub output: Option<PathBuf>,
    /// The clinic's age recipient: the full copy is locked for the clinic.
    pub encrypt_to: Option<String>,
    /// A typed name must be a plain file name, saved in the folder
    /// session-ready was started in (the page: a browser cannot show where a
    /// path typed there would lead).
    pub plain_names: bool,
}

impl Files {
    fn delivery<'a>(&'a self, view: View, path: &'a Path) -> Delivery<'a> {
        Delivery {
            format: saving::saved_format(self.format),
            view: Some(view),
            output: Some(path),
            encrypt_to: self.encrypt_to.as_deref(),
            style: crate::term::Style::decide(false, true, true),
        }
    }
}

impl Storage for Files {
    fn draft(&self) -> DraftPlace {
        let Some(file) = &self.draft else {
            return DraftPlace::Nowhere;
        };
        match draft::load(file) {
            Ok(Some(d)) => DraftPlace::Kept(Box::new(d)),
            Ok(None) => DraftPlace::Empty,
            Err(e) => DraftPlace::Unreadable {
                why: crate::safe_text::printable(&e.to_string()).into_owned(),
                regular: std::fs::symlink_metadata(file).is_ok_and(|m| m.is_file()),
            },
        }
    }

    fn keep(&mut self, keep: bool, kept: &Draft) -> Result<(), String> {
        let Some(file) = &self.draft else {
            return Ok(());
        };
        draft::keep_or_forget(
            file,
            keep,
            &kept.started_at,
            kept.region.as_deref(),
            &kept.state,
        )
        .map_err(|e| e.to_string())
    }

    fn forget(&mut self) -> Result<(), String> {
        match &self.draft {
            Some(file) => draft::remove(file).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    fn kept(&self) -> bool {
        self.draft
            .as_ref()
            .is_some_and(|f| std::fs::symlink_metadata(f).is_ok_and(|m| m.is_file()))
    }

    fn place(&self) -> Option<String> {
        self.draft
            .as_ref()
            .map(|f| crate::safe_text::printable(&f.display().to_string()).into_owned())
    }

    fn suggested_name(&self, watched: bool) -> String {
        saving::unique_name(&saving::default_file_name(
            self.format,
            self.encrypt_to.is_some(),
            watched,
        ))
    }

    fn save(
        &mut self,
        report: &Report,
        view: View,
        name: Option<&str>,
        _watched: bool,
    ) -> Result<String, SaveProblem> {
        let path = match (name, &self.output) {
            (Some(name), _) if self.plain_names => saving::typed_file_name(name)
                .map_err(|why| SaveProblem::Name(format!("{why} Nothing was saved.")))?,
            (Some(name), _) => {
                check_name(name)?;
                PathBuf::from(name)
            }
            (None, Some(output)) => output.clone(),
            (None, None) => return Err(SaveProblem::Name("Please type a file name.".into())),
        };
        let delivery = self.delivery(view, &path);
        // The checks apply to the file actually written (`.age` added when
        // locked), so an earlier report is never replaced.
        let written = delivery
            .output_path()
            .map_or_else(|| path.clone(), |p| p.into_owned());
        if name.is_some() && std::fs::symlink_metadata(&written).is_ok() {
            return Err(SaveProblem::Name(crate::safe_text::printable(&format!(
                "There is already a file called {}; it was left as it is. Please choose another \
                 name.",
                written.display()
            ))
            .into_owned()));
        }
        deliver(report, &delivery).map_err(|e| SaveProblem::Failed(e.to_string()))?;
        if crate::fsutil::is_stdout(Some(&path)) {
            return Ok(STANDARD_OUTPUT.into());
        }
        let shown = std::path::absolute(&written).unwrap_or(written);
        Ok(crate::safe_text::printable(&shown.display().to_string()).into_owned())
    }
}

/// What [`Storage::save`] returns for `--output -`: no file was written.
/// A typed name is never `-` (see `check_name`).
pub const STANDARD_OUTPUT: &str = "-";

/// What [`Inbox::save`] returns: the report went to the clinic's inbox.
pub const SENT_TO_CLINIC: &str = "\0clinic";

/// The longest file name taken from a person.
const MAX_NAME_CHARS: usize = 255;

/// A typed name is always a file: never `-` (which would print the report),
/// never text that could not be a name.
fn check_name(name: &str) -> Result<(), SaveProblem> {
    let problem = |why: &str| {
        Err(SaveProblem::Name(format!(
            "{why} Nothing was saved; please choose another name."
        )))
    };
    if crate::fsutil::is_stdout(Some(Path::new(name))) {
        return problem("“-” cannot be used as a file name here.");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return problem("The file name is too long.");
    }
    if let Err(why) = crate::safe_text::check_field("The file name", name, false) {
        return problem(&why);
    }
    if name.ends_with(['/', '\\']) || Path::new(name).is_dir() {
        return problem("That is a folder, not a file name.");
    }
    Ok(())
}

/// Kept in memory only: for tests, and for visits whose answers must never
/// rest on a disk.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// The kept draft, if any.
    pub draft: Option<Draft>,
    /// A kept file that cannot be read (`why`).
    pub unreadable: Option<String>,
    /// There is nowhere to keep a draft.
    pub nowhere: bool,
    /// Writing a draft fails (a full disk).
    pub draft_fails: bool,
    /// Saved copies: (view, name, watched).
    pub saved: Vec<(View, String, bool)>,
    /// Names already taken.
    pub taken: Vec<String>,
}

impl Storage for Memory {
    fn draft(&self) -> DraftPlace {
        match (&self.draft, &self.unreadable) {
            _ if self.nowhere => DraftPlace::Nowhere,
            (_, Some(why)) => DraftPlace::Unreadable {
                why: why.clone(),
                regular: true,
            },
            (Some(d), None) => DraftPlace::Kept(Box::new(d.clone())),
            (None, None) => DraftPlace::Empty,
        }
    }

    fn keep(&mut self, keep: bool, draft: &Draft) -> Result<(), String> {
        if self.nowhere {
            return Ok(());
        }
        // One file, as on disk: keeping or forgetting replaces whatever was there.
        self.unreadable = None;
        if !keep {
            self.draft = None;
            return Ok(());
        }
        if self.draft_fails {
            self.draft = None;
            return Err("no space left on the disk".into());
        }
        self.draft = Some(draft.clone());
        Ok(())
    }

    fn forget(&mut self) -> Result<(), String> {
        self.draft = None;
        self.unreadable = None;
        Ok(())
    }

    fn kept(&self) -> bool {
        self.draft.is_some() || self.unreadable.is_some()
    }

    fn place(&self) -> Option<String> {
        (!self.nowhere).then(|| "memory".to_string())
    }

    fn suggested_name(&self, watched: bool) -> String {
        if watched { "notes.json" } else { "report.json" }.into()
    }

    fn save(
        &mut self,
        _report: &Report,
        view: View,
        name: Option<&str>,
        watched: bool,
    ) -> Result<String, SaveProblem> {
        let name = name.unwrap_or("output.json").to_string();
        check_name(&name)?;
        if self.taken.contains(&name) {
            return Err(SaveProblem::Name(format!(
                "There is already a file called {name}; it was left as it is. Please choose \
                 another name."
            )));
        }
        self.taken.push(name.clone());
        self.saved.push((view, name.clone(), watched));
        Ok(name)
    }
}

/// Any store, for a front-end that serves visits with different stores (the
/// page: files on this computer, or the hosted inbox).
pub type AnyStorage = Box<dyn Storage + Send>;

impl Storage for AnyStorage {
    fn draft(&self) -> DraftPlace {
        (**self).draft()
    }
    fn keep(&mut self, keep: bool, draft: &Draft) -> Result<(), String> {
        (**self).keep(keep, draft)
    }
    fn forget(&mut self) -> Result<(), String> {
        (**self).forget()
    }
    fn kept(&self) -> bool {
        (**self).kept()
    }
    fn place(&self) -> Option<String> {
        (**self).place()
    }
    fn suggested_name(&self, watched: bool) -> String {
        (**self).suggested_name(watched)
    }
    fn save(
        &mut self,
        report: &Report,
        view: View,
        name: Option<&str>,
        watched: bool,
    ) -> Result<String, SaveProblem> {
        (**self).save(report, view, name, watched)
    }
}

/// The hosted check's store (`serve --clinic --inbox`): no draft is ever
/// kept (pausing keeps nothing on the server), and the report is encrypted
/// to the clinic's recipient before it touches the disk, then written
/// atomically and durably as `INBOX/ID.age`, one per invitation.
#[derive(Debug, Clone)]
pub struct Inbox {
    pub dir: PathBuf,
    /// The clinic file's age recipient.
    pub recipient: String,
    /// The invitation's id: the file's name, so a second report for the
    /// same invitation is refused.
    pub id: String,
    /// Where each arrival is announced (`serve --on-report`), if anywhere.
    pub arrivals: Option<std::sync::mpsc::Sender<crate::notify::Arrival>>,
}

impl Inbox {
    /// Where this invitation's report goes.
    pub fn file(&self) -> PathBuf {
        self.dir.join(format!("{}.age", self.id))
    }

    // Not a `Storage` of its own: the hosted visit's store
    // (`page::resume::HostedStore`) keeps paused visits and hands the report here.

    /// The report's name in the inbox: the invitation's id.
    pub fn suggested_name(&self) -> String {
        format!("{}.age", self.id)
    }

    /// Encrypt the report to the clinic and write it as `INBOX/ID.age`.
    pub fn save(&mut self, report: &Report, view: View) -> Result<String, SaveProblem> {
        let file = self.file();
        if std::fs::symlink_metadata(&file).is_ok() {
            return Err(SaveProblem::Failed(
                "A report for this invitation has already reached the clinic, so this one was \
                 not sent."
                    .into(),
            ));
        }
        let delivery = Delivery {
            format: Format::Json,
            view: Some(view),
            output: None,
            encrypt_to: Some(&self.recipient),
            style: crate::term::Style::decide(false, true, true),
        };
        let failed = |_| {
            SaveProblem::Failed(
                "The report could not be sent to the clinic just now; please try again in a \
                 moment."
                    .into(),
            )
        };
        let locked = crate::report::deliver::prepare(report, &delivery).map_err(&failed)?;
        crate::fsutil::write_private(&file, &locked).map_err(|e| failed(e.into()))?;
        // The rename is durable only once the folder is on disk too.
        #[cfg(unix)]
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| failed(e.into()))?;
        if let Some(arrivals) = &self.arrivals {
            // Announced on another thread: the client's page never waits for it.
            let _ = arrivals.send(crate::notify::Arrival::of(report, view));
        }
        Ok(SENT_TO_CLINIC.into())
    }
}
