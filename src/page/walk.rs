//! The questions in the page: the same walk as the terminal
//! (`questionnaire::walk`), drawn as server-rendered HTML forms that work
//! without JavaScript. A GET shows the current screen; a POST applies the
//! client's choice and answers 303 to the GET (post/redirect/get), so reload
//! and Back never send an answer twice. Each form carries the screen it was
//! drawn for; a form from an older screen changes nothing.
//!
//! Keeping answers follows the terminal exactly: a draft (the same file,
//! owner-only) only with the client's consent, updated after every change,
//! offered again next time; "Leave quickly" ends at once and leaves a kept
//! draft as it was, like Esc in the terminal.
use std::path::PathBuf;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

use super::Session;
use super::finish::{self, FinishedWalk};
use super::html::{self, escape};
use crate::questionnaire::bank;
use crate::questionnaire::draft::{self, Draft};
use crate::questionnaire::walk::{
    self, Choice, Ending, Event, MORE_LABEL, Opening, QuestionScreen, Screen, Walk, WalkState,
};
use crate::report::model::QuestionnaireStatus;

/// What the whole check in the page starts from.
#[derive(Debug, Clone)]
pub struct WalkSetup {
    /// Where a draft lives (`--draft`, or the data folder); `None` if there is nowhere.
    pub draft: Option<PathBuf>,
    /// Where the region can come from; a picked-up draft's region goes
    /// through the same choice as in the terminal (`RegionSources::choose`).
    pub regions: crate::crisis::RegionSources,
    /// A clinic key is set, so a copy only the clinic can open will be suggested.
    pub clinic_key: bool,
    pub opening: Opening,
}

/// How a walk that ends in the page says goodbye.
#[derive(Debug, Clone, PartialEq)]
enum Farewell {
    Paused { kept: Option<PathBuf>, failed: bool },
    NotNow { still_kept: bool },
    QuickExit,
}

#[derive(Debug, Clone)]
enum Stage {
    /// Answers kept from a paused check: pick up, start again, or not now.
    Welcome(Draft),
    /// A kept file that cannot be read: offer to delete it.
    Unreadable(String),
    Walking,
    /// Paused without consent to keep: ask once.
    PauseAsk,
    Farewell(Farewell),
}

/// One client's walk through the page.
#[derive(Debug)]
pub struct PageWalk {
    setup: WalkSetup,
    stage: Stage,
    walk: Walk<'static>,
    started_at: String,
    /// Said once on the next page (e.g. "choose an answer, or skip").
    notice: Option<String>,
    /// Plan text that was refused, shown again so nothing typed is lost.
    typed: Option<String>,
    save_failed: bool,
    /// The last page of a walk that ended here has been shown.
    farewell_shown: bool,
    /// The finished walk went to the end of the check.
    handed_over: bool,
    /// Where to carry on in a private window, offered on the first page.
    pub(super) private_address: Option<String>,
}

impl PageWalk {
    pub fn new(setup: WalkSetup) -> PageWalk {
        let mut stage = Stage::Walking;
        if let Some(file) = &setup.draft {
            match draft::load(file) {
                Ok(Some(kept)) => stage = Stage::Welcome(kept),
                Ok(None) => {}
                Err(e) => stage = Stage::Unreadable(e.to_string()),
            }
        }
        let walk = fresh_walk(&setup);
        PageWalk {
            setup,
            stage,
            walk,
            started_at: draft::now(),
            notice: None,
            typed: None,
            save_failed: false,
            farewell_shown: false,
            handed_over: false,
            private_address: None,
        }
    }

    /// The walk's whole state (for the end of the check, or a test).
    pub fn state(&self) -> WalkState {
        self.walk.state()
    }

    /// How the walk ended, once the client has seen its last page here
    /// (a finished walk continues at `finish` at once).
    pub fn ending(&self) -> Option<Ending> {
        match (&self.stage, self.walk.ended()) {
            (Stage::Farewell(f), _) if self.farewell_shown => Some(match f {
                Farewell::Paused { .. } => Ending::Paused,
                Farewell::NotNow { .. } => Ending::NotNow,
                Farewell::QuickExit => Ending::QuickExit,
            }),
            (Stage::Walking, Some(e @ (Ending::Completed | Ending::FinishedEarly))) => Some(e),
            _ => None,
        }
    }

    /// True when answers are on disk for next time.
    pub fn kept(&self) -> bool {
        self.setup
            .draft
            .as_ref()
            .is_some_and(|f| std::fs::symlink_metadata(f).is_ok_and(|m| m.is_file()))
    }

    /// The finished walk, once the questions are done or the client chose
    /// to finish early.
    pub fn finished(&self) -> Option<FinishedWalk> {
        let status = match self.walk.ended() {
            Some(Ending::Completed) => QuestionnaireStatus::Completed,
            Some(Ending::FinishedEarly) => QuestionnaireStatus::Stopped,
            _ => return None,
        };
        if !matches!(self.stage, Stage::Walking) {
            return None;
        }
        Some(FinishedWalk {
            answers: self.walk.flow.state.answers.clone(),
            session_plan: self.walk.flow.session_plan(),
            status,
            region: self.walk.region().map(str::to_string),
            watched: self.walk.watched(),
        })
    }

    /// The check is finished: the draft has done its job.
    pub fn forget_draft(&self) {
        if let Some(file) = &self.setup.draft {
            let _ = draft::remove(file);
        }
    }

    fn save(&mut self) {
        let Some(file) = self.setup.draft.clone() else {
            return;
        };
        let keep = self.walk.keep() == Some(true);
        let kept = draft::keep_or_forget(
            &file,
            keep,
            &self.started_at,
            self.walk.region(),
            &self.walk.flow.state,
        );
        if let Err(e) = kept
            && keep
            && !self.save_failed
        {
            self.save_failed = true;
            self.notice = Some(format!(
                "Your progress could not be kept ({e}). You can carry on; pausing will not keep your answers."
            ));
        }
    }

    /// The screen now, as a key the form sends back: a form drawn for
    /// another screen (an old tab, a resubmission) is not applied.
    fn at(&self) -> String {
        let place = match &self.stage {
            Stage::Welcome(_) => "welcome".to_string(),
            Stage::Unreadable(_) => "unreadable".to_string(),
            Stage::PauseAsk => "pause".to_string(),
            Stage::Farewell(_) => "farewell".to_string(),
            Stage::Walking => match self.walk.screen() {
                Screen::Region => "region".into(),
                Screen::Keep => "keep".into(),
                Screen::Watched { .. } => "watched".into(),
                Screen::PartIntro { section, .. } => format!("part-{}", section.id),
                Screen::Question(q) => format!("q-{}", q.question.id),
                Screen::NotNow => "not-now".into(),
                Screen::Crisis { acute } => format!("crisis-{acute}"),
                Screen::PlanIntro => "plan".into(),
                Screen::PlanPrompt(p) => format!("plan-{}", p.id),
                Screen::Ended(_) => "ended".into(),
            },
        };
        format!("{place}.{}", self.walk.flow.state.history.len())
    }

    /// Leave at once: a kept draft stays as it was, nothing else is written.
    pub fn leave_quickly(&mut self) {
        let _ = self.walk.apply(Event::QuickExit);
        self.stage = Stage::Farewell(Farewell::QuickExit);
        self.farewell_shown = false;
    }

    pub(super) fn left_quickly(&self) -> bool {
        matches!(self.stage, Stage::Farewell(Farewell::QuickExit))
    }

    /// Apply a submitted form. Whatever it says, the answer is a redirect
    /// to the page that shows where the client is now.
    fn submit(&mut self, form: &Form) {
        if form.get("at") != Some(self.at().as_str()) {
            self.notice = Some(
                "That page was out of date, so nothing was changed. Here is where you are now."
                    .into(),
            );
            return;
        }
        let action = form.get("do").unwrap_or_default();
        match &self.stage {
            Stage::Welcome(kept) => {
                let kept = kept.clone();
                match action {
                    "pick-up" => {
                        let state = WalkState {
                            flow: kept.state.clone(),
                            region: self.setup.regions.choose(kept.region.as_deref()),
                            keep: Some(true),
                            ..WalkState::default()
                        };
                        self.walk = Walk::resume(bank(), state);
                        self.walk.clinic_key = self.setup.clinic_key;
                        self.started_at = kept.started_at.clone();
                        self.stage = Stage::Walking;
                    }
                    "start-again" => {
                        if let Some(file) = &self.setup.draft
                            && let Err(e) = draft::remove(file)
                        {
                            self.notice =
                                Some(format!("The kept answers could not be deleted ({e})."));
                        }
                        self.stage = Stage::Walking;
                    }
                    "not-now" => {
                        // The farewell's numbers are for the region the
                        // check would have used.
                        self.walk = Walk::resume(
                            bank(),
                            WalkState {
                                region: self.setup.regions.choose(kept.region.as_deref()),
                                ..self.walk.state()
                            },
                        );
                        self.stage = Stage::Farewell(Farewell::NotNow { still_kept: true });
                    }
                    _ => {}
                }
            }
            Stage::Unreadable(_) => {
                if action == "delete" {
                    if let Some(file) = &self.setup.draft {
                        self.notice = Some(match draft::remove(file) {
                            Ok(()) => "Deleted. Starting a new check.".into(),
                            Err(e) => {
                                format!("It could not be deleted ({e}). Starting a new check.")
                            }
                        });
                    }
                    self.stage = Stage::Walking;
                } else if action == "leave-file" {
                    self.notice = Some(
                        "It was left where it is; you will be asked about it again next time. \
                         Starting a new check."
                            .into(),
                    );
                    self.stage = Stage::Walking;
                }
            }
            Stage::PauseAsk => {
                let keep = match action {
                    "keep-yes" => true,
                    "keep-no" => false,
                    _ => return,
                };
                let mut state = self.walk.state();
                state.keep = Some(keep);
                self.walk = Walk::resume(bank(), state);
                self.save();
                self.paused();
            }
            Stage::Farewell(_) => {}
            Stage::Walking => self.submit_walk(form, action),
        }
    }

    fn submit_walk(&mut self, form: &Form, action: &str) {
        let screen = self.walk.screen();
        let event = match (action, &screen) {
            ("answer", Screen::Region) => match form.get("region") {
                Some("elsewhere") => Some(Event::Region(None)),
                Some(code) => Some(Event::Region(Some(code.to_string()))),
                None => None,
            },
            ("answer", _) => form.get("answer").map(|a| Event::Answer(a.to_string())),
            ("plan", Screen::PlanPrompt(_)) => {
                let text = form.get("text").unwrap_or_default();
                if let Err(problem) = crate::safe_text::check_field("What you typed", text, false) {
                    self.notice = Some(problem);
                    self.typed = Some(text.to_string());
                    return;
                }
                Some(Event::PlanText(text.to_string()))
            }
            ("leave-out", Screen::PlanPrompt(_)) => Some(Event::PlanText(String::new())),
            (code, _) => event_from_code(code),
        };
        let Some(event) = event else {
            // Nothing chosen: nothing is recorded for the client.
            self.notice = Some(match screen {
                Screen::Region => {
                    "Nothing was chosen yet. Choose a country, or “Somewhere else”.".into()
                }
                _ => "Nothing was recorded. Choose an answer, or “Skip this question”.".into(),
            });
            return;
        };
        self.typed = None;
        match self.walk.apply(event) {
            Ok(applied) => {
                if applied.save {
                    self.save();
                }
            }
            Err(_) => {
                self.notice =
                    Some("That choice is not on this page, so nothing was changed.".into())
            }
        }
        match self.walk.ended() {
            Some(Ending::Paused) => {
                if self.setup.draft.is_some() && self.walk.keep() != Some(true) {
                    self.stage = Stage::PauseAsk;
                } else {
                    self.paused();
                }
            }
            Some(Ending::NotNow) => {
                self.stage = Stage::Farewell(Farewell::NotNow { still_kept: false })
            }
            Some(Ending::QuickExit) => self.leave_quickly(),
            _ => {}
        }
    }

    fn paused(&mut self) {
        let kept = self.kept().then(|| self.setup.draft.clone()).flatten();
        let failed = kept.is_none() && self.walk.keep() == Some(true);
        self.stage = Stage::Farewell(Farewell::Paused { kept, failed });
    }

    /// The page for where the client is now, or where to go instead.
    fn render(&mut self, footer: &str) -> Result<String, &'static str> {
        let notice = self.notice.take();
        let mut main = String::new();
        if let Some(notice) = &notice {
            main.push_str(&format!(
                "<p class=\"notice\" role=\"status\">{}</p>\n",
                escape(notice)
            ));
        }
        let at = self.at();
        let resources = self.walk.crisis_resources();
        let title;
        match &self.stage {
            Stage::Welcome(kept) => {
                title = "Welcome back".to_string();
                let answered = kept.state.answers.len();
                main.push_str(&format!(
                    "<h1>Welcome back</h1>\n<p>{}</p>\n",
                    escape(&walk::resume_summary(&kept.saved_at, answered))
                ));
                main.push_str(&buttons(
                    &at,
                    walk::RESUME_PROMPT,
                    &[
                        ("not-now", walk::RESUME_NOT_NOW),
                        ("pick-up", walk::RESUME_PICK_UP),
                        ("start-again", walk::RESUME_START_AGAIN),
                    ],
                ));
            }
            Stage::Unreadable(problem) => {
                title = "Answers kept from before".to_string();
                main.push_str(&format!(
                    "<h1>Answers kept from before</h1>\n<p>Answers kept from an earlier check could not be read, so they cannot be picked up again. {}</p>\n",
                    escape(problem)
                ));
                main.push_str(&buttons(
                    &at,
                    "What should happen to that file?",
                    &[
                        ("delete", "Delete the kept answers (they may be private)"),
                        ("leave-file", "Leave the file where it is"),
                    ],
                ));
            }
            Stage::PauseAsk => {
                title = "Pause".to_string();
                main.push_str("<h1>Pause</h1>\n");
                main.push_str(&buttons(
                    &at,
                    walk::PAUSE_KEEP_PROMPT,
                    &[
                        ("keep-no", walk::PAUSE_KEEP_NO),
                        ("keep-yes", walk::KEEP_YES),
                    ],
                ));
            }
            Stage::Farewell(Farewell::QuickExit) => return Err("away"),
            Stage::Farewell(farewell) => {
                title = "Take care".to_string();
                let emergency = crate::crisis::emergency_line(&resources);
                let text = match farewell {
                    Farewell::Paused { kept: Some(file), .. } => format!(
                        "Paused. Your answers are kept privately in {}.\n\nRun session-ready check again to pick up where you left off.",
                        file.display()
                    ),
                    Farewell::Paused { failed: true, .. } => {
                        "Paused, but your answers could not be kept. Next time starts afresh."
                            .into()
                    }
                    Farewell::Paused { .. } if self.setup.draft.is_none() => {
                        "Paused. There is nowhere to keep answers on this system, so next time starts afresh.".into()
                    }
                    Farewell::Paused { .. } => {
                        "Paused. Nothing was kept. Run session-ready check whenever you are ready."
                            .into()
                    }
                    Farewell::NotNow { still_kept: true } => format!(
                        "Your answers are still kept. Whenever you are ready, run session-ready check again. Take care.\n\n{emergency}"
                    ),
                    Farewell::NotNow { .. } => format!(
                        "That is completely okay. Whenever you are ready, run session-ready check again. Take care.\n\n{emergency}"
                    ),
                    Farewell::QuickExit => String::new(),
                };
                main.push_str("<h1>Take care</h1>\n");
                main.push_str(&html::paragraphs(&text));
                main.push_str("<p>You can close this page now.</p>\n");
                self.farewell_shown = true;
            }
            Stage::Walking => {
                let screen = self.walk.screen();
                if let Screen::Ended(ending) = screen {
                    // A client who chose to finish now goes straight to the
                    // report; otherwise the camera, microphone and speakers next.
                    return Err(match ending {
                        Ending::FinishedEarly => "finish",
                        _ => "media",
                    });
                }
                title = self.walk.title(&screen);
                main.push_str(&self.screen_html(&screen, &at));
            }
        }
        Ok(html::page(&self.frame(), &title, &main, footer))
    }

    /// The frame of the page for where the client is now: the support
    /// numbers from the first risk "yes" (or the support screen) on, kept
    /// answers with one included; nothing at all after leaving quickly.
    pub(super) fn frame(&self) -> html::Frame {
        let crisis = match &self.stage {
            Stage::Farewell(Farewell::QuickExit) => None,
            Stage::Welcome(kept) => kept
                .state
                .answers
                .iter()
                .any(|(q, a)| crate::questionnaire::risk::is_positive_risk_answer(q, a))
                .then(|| {
                    crate::crisis::resources_list(
                        self.setup
                            .regions
                            .choose(kept.region.as_deref())
                            .as_deref()
                            .unwrap_or(crate::crisis::FALLBACK_REGION),
                    )
                }),
            _ => (self.walk.crisis_in_sight()
                || matches!(self.walk.screen(), Screen::Crisis { .. }))
            .then(|| self.walk.crisis_resources()),
        };
        let first_page = matches!(self.stage, Stage::Walking)
            && matches!(self.walk.screen(), Screen::Question(q) if q.opening.is_some());
        html::Frame {
            crisis,
            watched: self.walk.watched(),
            private_window: self.private_address.clone().filter(|_| first_page),
        }
    }

    fn screen_html(&self, screen: &Screen<'static>, at: &str) -> String {
        let walk = &self.walk;
        let title = walk.title(screen);
        let prompt = walk.prompt(screen);
        let (choices, _) = walk.choices(screen);
        match screen {
            Screen::Question(q) => question_html(q, &choices, at, walk.crisis_in_sight()),
            Screen::Region => {
                let mut out = format!(
                    "<h1>{}</h1>\n<p>This is only used to show the right support numbers.</p>\n",
                    escape(&title)
                );
                out.push_str(&radios_form(at, &prompt, "region", &choices, "Continue"));
                out
            }
            Screen::PlanPrompt(p) => {
                let typed = self.typed.as_deref().unwrap_or_default();
                format!(
                    "<h1>{title}</h1>\n{why}\
                     <form method=\"post\" action=\"walk\">\n{at_field}\
                     <p><label for=\"plan-text\" class=\"prompt\">{prompt}</label></p>\n\
                     <p class=\"hint\" id=\"plan-hint\">{hint} Leave it empty to leave it out.</p>\n\
                     <p><input type=\"text\" id=\"plan-text\" name=\"text\" maxlength=\"{max}\" \
                     aria-describedby=\"plan-hint\" autocomplete=\"off\" value=\"{typed}\"></p>\n\
                     <p class=\"actions\"><button type=\"submit\" name=\"do\" value=\"plan\" id=\"do-plan\" class=\"primary\">Continue</button>\
                     <button type=\"submit\" name=\"do\" value=\"leave-out\" id=\"do-leave-out\">Leave this out</button>\
                     <button type=\"submit\" name=\"do\" value=\"back\" id=\"do-back\">Go back</button></p>\n</form>\n",
                    title = escape(&title),
                    why = html::paragraphs(&p.why),
                    at_field = at_field(at),
                    prompt = escape(&p.text),
                    hint = escape(&sentence(&crate::term::capitalise(&p.hint))),
                    max = crate::safe_text::MAX_FIELD_CHARS,
                    typed = escape(typed),
                )
            }
            _ => {
                let text = match screen {
                    Screen::Keep => crate::questionnaire::walk::KEEP_TEXT.to_string(),
                    Screen::Watched {
                        was_kept,
                        clinic_key,
                    } => {
                        let (kept, save) =
                            crate::questionnaire::walk::watched_notes(*was_kept, *clinic_key);
                        format!(
                            "Thank you for telling us. To help keep this private from here on, \
                             {kept}, and at the end, {save}.\n\n\
                             “Leave quickly”, always at the top of the page, replaces this page \
                             with an empty one at any moment."
                        )
                    }
                    Screen::PartIntro { section, count } => format!(
                        "{}\n\n{}",
                        section.intro,
                        crate::questionnaire::walk::part_size(*count)
                    ),
                    Screen::NotNow => format!(
                        "You can come back whenever it is a better time.\n\n{}",
                        crate::crisis::emergency_line(&walk.crisis_resources())
                    ),
                    Screen::Crisis { acute } => {
                        crate::questionnaire::walk::crisis_intro(*acute).to_string()
                    }
                    Screen::PlanIntro => walk.flow.bank.plan.intro.clone(),
                    _ => String::new(),
                };
                // The support screen's numbers are in the page's frame.
                let mut out = format!("<h1>{}</h1>\n{}", escape(&title), html::paragraphs(&text));
                let items: Vec<(String, String)> = choices
                    .iter()
                    .filter_map(|c| Some((event_code(&c.event)?, c.label.clone())))
                    .collect();
                let items: Vec<(&str, &str)> = items
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                out.push_str(&buttons(at, &prompt, &items));
                out
            }
        }
    }
}

fn fresh_walk(setup: &WalkSetup) -> Walk<'static> {
    let mut walk = Walk::resume(
        bank(),
        WalkState {
            region: setup.regions.choose(None),
            keep: None,
            opening: Some(setup.opening.clone()),
            ..WalkState::default()
        },
    );
    walk.clinic_key = setup.clinic_key;
    walk
}

/// `text` ending like a sentence, so another can follow it.
fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?', ')']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// The form field that ties a form to the screen it was drawn for.
fn at_field(at: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"at\" value=\"{}\">\n",
        escape(at)
    )
}

/// A choice as a button value (answers and countries are radio buttons instead).
fn event_code(event: &Event) -> Option<String> {
    Some(
        match event {
            Event::Keep(true) => "keep-yes",
            Event::Keep(false) => "keep-no",
            Event::Continue => "continue",
            Event::SkipPart => "skip-part",
            Event::Skip => "skip",
            Event::Why => "why",
            Event::More => "more",
            Event::Back => "back",
            Event::Pause => "pause",
            Event::Leave => "leave-now",
            Event::FinishNow => "finish-now",
            Event::QuickExit => "quick-exit",
            Event::Region(_) | Event::Answer(_) | Event::PlanText(_) => return None,
        }
        .to_string(),
    )
}

fn event_from_code(code: &str) -> Option<Event> {
    Some(match code {
        "keep-yes" => Event::Keep(true),
        "keep-no" => Event::Keep(false),
        "continue" => Event::Continue,
        "skip-part" => Event::SkipPart,
        "skip" => Event::Skip,
        "why" => Event::Why,
        "more" => Event::More,
        "back" => Event::Back,
        "pause" => Event::Pause,
        "leave-now" => Event::Leave,
        "finish-now" => Event::FinishNow,
        "quick-exit" => Event::QuickExit,
        _ => return None,
    })
}

/// A question: its text, the options as radio buttons with none checked,
/// then Continue, "Skip this question" as its own button, Back and Pause;
/// "Why we ask" opens in place without JavaScript.
/// `crisis_in_sight`: the page's crisis box already holds the support numbers,
/// so the risk questions' own support line would only repeat them.
fn question_html(
    q: &QuestionScreen,
    choices: &[Choice],
    at: &str,
    crisis_in_sight: bool,
) -> String {
    let mut out = String::new();
    match &q.opening {
        Some(opening) => {
            out.push_str(&format!("<h1>{}</h1>\n", escape(&opening.title)));
            out.push_str(&html::paragraphs(&opening.text));
            if let Some(more) = &opening.more {
                out.push_str(&format!(
                    "<details class=\"more\"><summary>{}</summary>{}</details>\n",
                    escape(MORE_LABEL),
                    html::paragraphs(more)
                ));
            }
        }
        None => {
            out.push_str(&format!(
                "<p class=\"progress\">{} · question {} of about {}</p>\n",
                escape(q.section_title),
                q.number,
                q.about
            ));
            if let Some(intro) = &q.intro {
                out.push_str(&html::paragraphs(intro));
            }
        }
    }
    if let Some(line) = q.support_line.as_ref().filter(|_| !crisis_in_sight) {
        out.push_str(&format!("<p class=\"support-line\">{}</p>\n", escape(line)));
    }
    let heading = if q.opening.is_some() { "h2" } else { "h1" };
    out.push_str(&format!(
        "<form method=\"post\" action=\"walk\">\n{}<fieldset class=\"choices\">\n\
         <legend><{heading} class=\"question\">{}</{heading}></legend>\n",
        at_field(at),
        escape(&q.question.text)
    ));
    for (i, option) in q.question.options.iter().enumerate() {
        out.push_str(&format!(
            "<div class=\"option\"><input type=\"radio\" name=\"answer\" id=\"answer-{i}\" value=\"{}\">\
             <label for=\"answer-{i}\">{}</label></div>\n",
            escape(&option.id),
            escape(&option.label)
        ));
    }
    out.push_str("</fieldset>\n");
    if let Some(previous) = q.previous.as_deref().and_then(|p| q.question.option(p)) {
        out.push_str(&format!(
            "<p class=\"hint\">Before, you chose: {}.</p>\n",
            escape(&previous.label)
        ));
    }
    out.push_str(
        "<p class=\"actions\"><button type=\"submit\" name=\"do\" value=\"answer\" id=\"do-answer\" class=\"primary\">Continue</button>",
    );
    for choice in choices {
        let Some(code) = event_code(&choice.event) else {
            continue;
        };
        if matches!(choice.event, Event::Why | Event::More) {
            continue;
        }
        out.push_str(&format!(
            "<button type=\"submit\" name=\"do\" value=\"{code}\" id=\"do-{code}\">{}</button>",
            escape(&choice.label)
        ));
    }
    out.push_str("</p>\n</form>\n");
    out.push_str(&format!(
        "<details class=\"why\"><summary>Why we ask this</summary><p>{}</p></details>\n",
        escape(&q.question.why)
    ));
    out
}

/// A list of choices as radio buttons (none checked) and one button.
fn radios_form(at: &str, prompt: &str, name: &str, choices: &[Choice], go: &str) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"walk\">\n{}<fieldset class=\"choices\">\n<legend>{}</legend>\n",
        at_field(at),
        escape(prompt)
    );
    for (i, choice) in choices.iter().enumerate() {
        let value = match &choice.event {
            Event::Region(Some(code)) => code.clone(),
            Event::Region(None) => "elsewhere".to_string(),
            Event::Answer(id) => id.clone(),
            _ => continue,
        };
        out.push_str(&format!(
            "<div class=\"option\"><input type=\"radio\" name=\"{name}\" id=\"{name}-{i}\" value=\"{}\">\
             <label for=\"{name}-{i}\">{}</label></div>\n",
            escape(&value),
            escape(&choice.label)
        ));
    }
    out.push_str(&format!(
        "</fieldset>\n<p class=\"actions\"><button type=\"submit\" name=\"do\" value=\"answer\" id=\"do-answer\" class=\"primary\">{}</button></p>\n</form>\n",
        escape(go)
    ));
    out
}

/// A question answered by one of a few buttons.
fn buttons(at: &str, prompt: &str, items: &[(&str, &str)]) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"walk\">\n{}<fieldset class=\"buttons\">\n<legend>{}</legend>\n",
        at_field(at),
        escape(prompt)
    );
    for (code, label) in items {
        out.push_str(&format!(
            "<button type=\"submit\" name=\"do\" value=\"{code}\" id=\"do-{code}\">{label}</button>\n",
            code = escape(code),
            label = escape(label)
        ));
    }
    out.push_str("</fieldset>\n</form>\n");
    out
}

/// A submitted form's fields (first value of each).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn html_response(page: String) -> Response {
    let mut r = Response::new(Body::from(page));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// 303 See Other to another of the page's paths.
fn see_other(to: &'static str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(to));
    r
}

/// An empty, neutral page to leave to: its title and words say nothing
/// about this check.
pub fn away_page() -> Response {
    html_response(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>New page</title>\n</head>\n<body>\n<main>\n<h1>New page</h1>\n\
         <p>Nothing here yet.</p>\n</main>\n</body>\n</html>\n"
            .to_string(),
    )
}

/// Answer one of the questions' paths.
pub(super) fn route(session: &Session, method: &http::Method, rest: &str, body: &[u8]) -> Response {
    let footer = finish::connection_line(session);
    let get = method == http::Method::GET || method == http::Method::HEAD;
    let post = method == http::Method::POST;
    let Some(mut walk) = session.walk() else {
        // The questions came from a file: leaving still goes to the neutral page.
        return match rest {
            "leave" if post => see_other("away"),
            "away" if get => away_page(),
            _ => see_other("media"),
        };
    };
    // After leaving quickly, every page is the neutral one, so Back and
    // reload show nothing of the check.
    if walk.left_quickly() && get && rest != "away" {
        return see_other("away");
    }
    match (rest, get, post) {
        ("" | "walk", true, _) => match walk.render(&footer) {
            Ok(page) => html_response(page),
            Err("away") => see_other("away"),
            Err(next) => {
                if !walk.handed_over
                    && let Some(finished) = walk.finished()
                {
                    walk.handed_over = true;
                    drop(walk);
                    if next == "finish" {
                        finish::walk_done(session, finished);
                    } else {
                        // Handed over when the media test is done or passed by.
                        session.progress().held_walk = Some(finished);
                    }
                }
                see_other(next)
            }
        },
        ("walk", _, true) => {
            walk.submit(&Form::parse(body));
            see_other("walk")
        }
        ("leave", _, true) => {
            walk.leave_quickly();
            see_other("away")
        }
        ("away", true, _) => {
            if walk.left_quickly() {
                walk.farewell_shown = true;
            }
            away_page()
        }
        _ => super::plain(http::StatusCode::METHOD_NOT_ALLOWED, "not here\n"),
    }
}
