//! The page's drawing of a visit's screen (`visit::Screen`): server-rendered
//! HTML forms that work without JavaScript. It decides nothing about what is
//! said, offered or kept (that is `visit`); it only knows how a page shows
//! things: radio buttons for answers (none chosen), buttons for everything
//! else, the report laid out in HTML, and the frame drawn by the skeleton
//! (`html::page`). A form carries its screen's key (`at`) and sends back a
//! code that [`decode`] turns into the visit's own [`Action`].
use crate::questionnaire::walk::Event;
use crate::visit::{Action, Ask, Block, Choice, Screen, TextField};

use super::html::{self, escape};

/// What a submitted form's fields say (first value of each).
pub struct Form(Vec<(String, String)>);

impl Form {
    /// A form from its fields (tests; the page's forms arrive encoded).
    pub fn new(fields: Vec<(String, String)>) -> Form {
        Form(fields)
    }

    pub fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How a choice is sent: as a radio button (`name`, `value`) chosen before
/// one Continue button, or as a button of its own (`do` = code).
enum Sent {
    Radio { name: &'static str, value: String },
    Button(&'static str),
}

fn sent(action: &Action) -> Option<Sent> {
    let button = |code| Some(Sent::Button(code));
    match action {
        Action::Walk(Event::Answer(id)) => Some(Sent::Radio {
            name: "answer",
            value: id.clone(),
        }),
        Action::Walk(Event::Region(region)) => Some(Sent::Radio {
            name: "region",
            value: region.clone().unwrap_or_else(|| ELSEWHERE.to_string()),
        }),
        Action::Save { choice, .. } => Some(Sent::Radio {
            name: "choice",
            value: choice.id().to_string(),
        }),
        Action::Walk(Event::PlanText(text)) if text.is_empty() => button("leave-out"),
        Action::Walk(event) => event_code(event).map(Sent::Button),
        Action::PickUp => button("pick-up"),
        Action::StartAgain => button("start-again"),
        Action::NotNow => button("not-now"),
        Action::DeleteKept => button("delete"),
        Action::LeaveKept => button("leave-file"),
        Action::KeepOnPause(true) => button("keep-yes"),
        Action::KeepOnPause(false) => button("keep-no"),
        Action::ChangeRegion => button("change-region"),
        Action::MediaDone => button("media-done"),
        Action::BackToChoices => button("back-to-choices"),
        Action::ConfirmUnlocked => button("confirm-unlocked"),
        Action::Finish => button("finish"),
        Action::FileName(_) | Action::Stop | Action::QuickExit => None,
    }
}

/// The form fields a browser sends for `action` chosen on its page (what
/// [`main_html`] draws for it): `None` for what is not a choice there.
pub fn fields(action: &Action) -> Option<Vec<(&'static str, String)>> {
    Some(match sent(action)? {
        Sent::Radio { name, value } => {
            let go = if name == "choice" { "save" } else { "answer" };
            vec![("do", go.to_string()), (name, value)]
        }
        Sent::Button(code) => vec![("do", code.to_string())],
    })
}

/// The radio value of "Somewhere else, or not in this list".
const ELSEWHERE: &str = "elsewhere";

fn event_code(event: &Event) -> Option<&'static str> {
    Some(match event {
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
    })
}

/// What the text field's Continue button sends.
fn text_code(field: TextField) -> &'static str {
    match field {
        TextField::Plan => "plan",
        TextField::FileName => "file-name",
    }
}

/// The visit's action for a form submitted on `screen`, or what to say when
/// the form chose nothing this screen offers. The visit checks again that
/// the action is offered; this only reads the form.
pub fn decode(screen: &Screen, form: &Form) -> Result<Action, String> {
    let code = form.get("do").unwrap_or_default();
    let choices = screen.ask.choices();
    let radio = |name: &str| {
        let value = form.get(name)?;
        choices.iter().find_map(|c| match sent(&c.action) {
            Some(Sent::Radio { name: n, value: v }) if n == name && v == value => {
                Some(c.action.clone())
            }
            _ => None,
        })
    };
    match code {
        "answer" => radio("answer")
            .or_else(|| radio("region"))
            .ok_or_else(|| nothing_chosen(screen)),
        "save" => match radio("choice") {
            Some(Action::Save { choice, .. }) => Ok(Action::Save {
                choice,
                name: form.get("name").map(str::to_string),
            }),
            _ => Err(nothing_chosen(screen)),
        },
        code => match &screen.ask {
            Ask::Text { field, .. } if code == text_code(*field) => {
                Ok(field.action(form.get("text").unwrap_or_default().to_string()))
            }
            _ => choices
                .iter()
                .find(|c| matches!(sent(&c.action), Some(Sent::Button(b)) if b == code))
                .map(|c| c.action.clone())
                .ok_or_else(|| crate::visit::NOT_OFFERED.to_string()),
        },
    }
}

fn nothing_chosen(screen: &Screen) -> String {
    let radios: Vec<&Choice> = radio_choices(screen.ask.choices()).collect();
    match radios.first().map(|c| &c.action) {
        Some(Action::Walk(Event::Region(_))) => {
            "Nothing was chosen yet. Choose a country, or “Somewhere else”.".into()
        }
        Some(Action::Save { .. }) => {
            "Please choose one of the options, then press Continue.".into()
        }
        _ => "Nothing was recorded. Choose an answer, or “Skip this question”.".into(),
    }
}

fn radio_choices(choices: &[Choice]) -> impl Iterator<Item = &Choice> {
    choices
        .iter()
        .filter(|c| matches!(sent(&c.action), Some(Sent::Radio { .. })))
}

/// The main part of the page for `screen`; `at` ties its form to it and
/// `notice` is said first (a form that chose nothing, a stale page).
pub fn main_html(screen: &Screen, at: &str, notice: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(notice) = notice {
        out.push_str(&notice_html(notice));
    }
    if !screen.title.is_empty() {
        out.push_str(&format!("<h1>{}</h1>\n", escape(&screen.title)));
    }
    for block in &screen.body {
        out.push_str(&block_html(block));
    }
    match &screen.ask {
        Ask::Choose {
            prompt, choices, ..
        } => out.push_str(&choose_html(at, prompt, choices)),
        Ask::Text {
            prompt,
            hint,
            value,
            choices,
            field,
        } => out.push_str(&text_html(at, prompt, hint, value, choices, *field)),
        Ask::Wait => out.push_str(
            "<div data-waiting=\"report\"><p><a class=\"button primary\" href=\"finish?wait=1\" \
             id=\"continue\">Continue</a></p></div>\n",
        ),
        Ask::Nothing if !screen.title.is_empty() => {
            out.push_str("<p id=\"closing\">You can close this page now.</p>\n")
        }
        Ask::Media | Ask::Nothing => {}
    }
    out
}

/// Where the hosted check's last page offers the client's own copy.
pub const OWN_COPY: &str = "my-copy.pdf";

fn notice_html(notice: &str) -> String {
    format!(
        "<p class=\"notice\" role=\"alert\">{}</p>\n",
        escape(notice)
    )
}

fn block_html(block: &Block) -> String {
    match block {
        Block::Text(text) => html::paragraphs(text),
        Block::Notice(text) => notice_html(text),
        Block::Note(text) => format!("<p class=\"hint\">{}</p>\n", escape(text)),
        Block::Outcome { words, headline } => format!(
            "<p class=\"outcome\"><strong>{}.</strong> {}</p>\n",
            escape(words),
            escape(headline)
        ),
        Block::Report { report, .. } => crate::report::html::render(report, 2),
        Block::Link { label, href } => format!(
            "<p class=\"link\"><a href=\"{}\">{}</a></p>\n",
            escape(href),
            escape(label)
        ),
        Block::OwnCopy { label, note } => format!(
            "<p><a class=\"button\" href=\"{OWN_COPY}\" download>{}</a></p>\n\
             <p class=\"hint\">{}</p>\n",
            escape(label),
            escape(note)
        ),
    }
}

fn at_field(at: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"at\" value=\"{}\">\n",
        escape(at)
    )
}

/// A choice among radio buttons (none chosen) and Continue, then the other
/// choices as buttons; or buttons alone.
fn choose_html(at: &str, prompt: &str, choices: &[Choice]) -> String {
    let radios: Vec<&Choice> = radio_choices(choices).collect();
    let mut out = format!("<form method=\"post\" action=\"walk\">\n{}", at_field(at));
    let class = if radios.is_empty() {
        "buttons"
    } else {
        "choices"
    };
    out.push_str(&format!(
        "<fieldset class=\"{class}\">\n<legend><h2 class=\"question\">{}</h2></legend>\n",
        escape(prompt)
    ));
    let mut go = "answer";
    for (i, choice) in radios.iter().enumerate() {
        let Some(Sent::Radio { name, value }) = sent(&choice.action) else {
            continue;
        };
        // Saving choices are named by what they do; answers by place.
        let id = if name == "choice" {
            go = "save";
            format!("choice-{value}")
        } else {
            format!("{name}-{i}")
        };
        out.push_str(&format!(
            "<div class=\"option\"><input type=\"radio\" name=\"{name}\" id=\"{id}\" \
             value=\"{value}\"><label for=\"{id}\">{label}</label></div>\n",
            id = escape(&id),
            value = escape(&value),
            label = escape(&choice.label)
        ));
    }
    if radios.is_empty() {
        out.push_str(&buttons(choices));
        out.push_str("</fieldset>\n</form>\n");
        return out;
    }
    out.push_str("</fieldset>\n<p class=\"actions\">");
    out.push_str(&format!(
        "<button type=\"submit\" name=\"do\" value=\"{go}\" id=\"{}\" \
         class=\"primary\">Continue</button>",
        primary_id(go)
    ));
    out.push_str(&buttons(choices));
    out.push_str("</p>\n</form>\n");
    out
}

/// The id of a form's Continue button: the questions' are named by what
/// they send, the end's (saving) is the page's one "continue".
fn primary_id(code: &str) -> String {
    match code {
        "save" | "file-name" => "continue".into(),
        code => format!("do-{code}"),
    }
}

/// Every choice sent by a button of its own, in the visit's order.
fn buttons(choices: &[Choice]) -> String {
    choices
        .iter()
        .filter_map(|c| match sent(&c.action) {
            Some(Sent::Button(code)) => Some(format!(
                "<button type=\"submit\" name=\"do\" value=\"{code}\" id=\"do-{code}\">{}</button>\n",
                escape(&c.label)
            )),
            _ => None,
        })
        .collect()
}

fn text_html(
    at: &str,
    prompt: &str,
    hint: &str,
    value: &str,
    choices: &[Choice],
    field: TextField,
) -> String {
    let (id, max, empty) = match field {
        TextField::Plan => (
            "plan-text",
            crate::safe_text::MAX_FIELD_CHARS,
            "Leave it empty to leave it out.",
        ),
        TextField::FileName => ("file-name", 255, ""),
    };
    let code = text_code(field);
    let primary = primary_id(code);
    format!(
        "<form method=\"post\" action=\"walk\">\n{at_field}\
         <p><label for=\"{id}\" class=\"prompt\">{prompt}</label></p>\n\
         <p class=\"hint\" id=\"{id}-hint\">{hint} {empty}</p>\n\
         <p><input type=\"text\" id=\"{id}\" name=\"text\" maxlength=\"{max}\" \
         aria-describedby=\"{id}-hint\" autocomplete=\"off\" spellcheck=\"false\" \
         value=\"{value}\"></p>\n\
         <p class=\"actions\"><button type=\"submit\" name=\"do\" value=\"{code}\" \
         id=\"{primary}\" class=\"primary\">Continue</button>{buttons}</p>\n</form>\n",
        at_field = at_field(at),
        prompt = escape(prompt),
        hint = escape(hint),
        value = escape(value),
        buttons = buttons(choices),
    )
}
