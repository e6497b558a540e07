//! The terminal front-end of a visit: it draws [`Visit::screen`] and sends
//! back what the person picked. It decides nothing about what is said,
//! offered or kept (that is `visit`); it only knows how a terminal shows
//! things: a cleared screen, the frame's numbers above the question (last on
//! a screen that asks nothing), menus through a [`Prompter`], long reports
//! through the pager.
use crate::questionnaire::prompt::{Interrupt, MenuItem, Prompter, TEXT_BACK};
use crate::questionnaire::walk::Event;
use crate::report::Report;
use crate::term::Style;
use crate::visit::{Action, Ask, Block, Choice, End, Measured, Screen, Storage, TextField, Visit};

/// The measurements that run while the person answers.
pub trait Background {
    /// The check proper has begun: start measuring (called once or more).
    fn start(&mut self);
    /// Wait for the measurements and hand them over.
    fn finish(&mut self) -> Measured;
}

/// Walk the visit to its end.
pub fn run<S: Storage>(
    visit: &mut Visit<S>,
    prompter: &mut dyn Prompter,
    style: Style,
    background: &mut dyn Background,
) -> End {
    loop {
        if visit.begun() {
            background.start();
        }
        let screen = visit.screen();
        // Ctrl-C outside a prompt (the wait for the report, the pager) ends
        // the program from the signal thread: the numbers stay even then.
        crate::interrupt::set_last_words(
            screen
                .frame
                .crisis
                .as_ref()
                .map(|resources| crate::crisis::render(resources, style)),
        );
        let action = match &screen.ask {
            Ask::Nothing => {
                prompter.clear();
                let text = draw(&screen, style);
                if !text.is_empty() {
                    prompter.say(&text);
                }
                return visit.end().unwrap_or(End::Done);
            }
            Ask::Wait => {
                prompter.clear();
                prompter.say(&draw(&screen, style));
                visit.measured(background.finish());
                continue;
            }
            // The camera and microphone are tested in the page only.
            Ask::Media => Action::MediaDone,
            Ask::Choose { .. } if has_report(&screen) && pager_usable(style) => {
                prompter.clear();
                if crate::term::page(&paged_text(&screen, style)) {
                    // The pager was the reading: the screen's one way on.
                    screen
                        .ask
                        .choices()
                        .first()
                        .map_or(Action::BackToChoices, |c| c.action.clone())
                } else {
                    ask(prompter, &screen, style)
                }
            }
            Ask::Choose { .. } | Ask::Text { .. } => ask(prompter, &screen, style),
        };
        visit.act(action);
    }
}

/// Clear, draw, and ask; an interruption becomes the visit's own action.
fn ask(prompter: &mut dyn Prompter, screen: &Screen, style: Style) -> Action {
    prompter.clear();
    prompter.say(&draw(screen, style));
    match pick(prompter, screen, style) {
        Ok(action) => action,
        Err(Interrupt::QuickExit) => Action::QuickExit,
        Err(Interrupt::Stop | Interrupt::Closed) => Action::Stop,
    }
}

fn pick(prompter: &mut dyn Prompter, screen: &Screen, style: Style) -> Result<Action, Interrupt> {
    match &screen.ask {
        Ask::Choose {
            prompt,
            choices,
            cursor,
            typed,
        } => {
            let items: Vec<MenuItem> = choices.iter().map(menu_item).collect();
            let help = crate::questionnaire::prompt::menu_help(style.plain);
            let picked = if *typed {
                let help = if style.plain {
                    "Type your country's name or its first letters, then Enter. q leaves at once."
                } else {
                    "Type the first letters of your country, ↑↓, then Enter. Esc leaves at once."
                };
                prompter.choose_typed(prompt, &items, *cursor, help)?
            } else {
                prompter.choose(prompt, &items, *cursor, help)?
            };
            Ok(choices[picked].action.clone())
        }
        Ask::Text {
            prompt,
            choices,
            field,
            ..
        } => {
            let help = text_help(choices, *field, style);
            let reply = prompter.text(prompt, &help, "")?;
            let back = choices
                .iter()
                .find(|c| c.key == "b")
                .filter(|_| reply.trim().eq_ignore_ascii_case(TEXT_BACK));
            Ok(match back {
                Some(back) => back.action.clone(),
                None => field.action(reply),
            })
        }
        _ => Ok(Action::Stop),
    }
}

fn menu_item(c: &Choice) -> MenuItem {
    let mut item = MenuItem::new(c.key.clone(), c.label.clone());
    if let Action::Walk(Event::Region(region)) = &c.action {
        item = match region {
            Some(code) => item.also(crate::crisis::other_names(code).to_vec()),
            None => item.always_listed(),
        };
    }
    if c.records { item } else { item.without_tick() }
}

/// The help under a free-text question, from what it offers.
fn text_help(choices: &[Choice], field: TextField, style: Style) -> String {
    let mut parts = Vec::new();
    parts.push(match field {
        TextField::Plan => "Enter on an empty line leaves this out".to_string(),
        TextField::FileName => "Enter uses the suggested name".to_string(),
    });
    if choices.iter().any(|c| c.key == "b") {
        parts.push(format!("type {TEXT_BACK} to go back"));
    }
    if style.plain {
        parts.push("q leaves at once".into());
        format!("{}.", crate::term::capitalise(&parts.join(", ")))
    } else {
        parts.push("Esc leaves at once".into());
        parts.join(" · ")
    }
}

fn has_report(screen: &Screen) -> bool {
    screen
        .body
        .iter()
        .any(|b| matches!(b, Block::Report { .. }))
}

/// What the terminal shows for a screen, above its question: the frame's
/// numbers first (so they stay above every question), the heading, the body.
/// A screen that asks nothing (a farewell) ends with the numbers instead,
/// the last lines left on the screen.
pub fn draw(screen: &Screen, style: Style) -> String {
    let mut out = String::new();
    let last = screen.frame.last;
    if !last {
        out.push_str(&frame(screen, style, false));
    }
    if !screen.title.is_empty() {
        out.push_str(&style.heading(&screen.title));
    }
    for block in &screen.body {
        out.push_str(&draw_block(block, style));
    }
    if last {
        out.push_str(&frame(screen, style, true));
    }
    out.trim_end().to_string()
}

fn frame(screen: &Screen, style: Style, last: bool) -> String {
    let Some(resources) = &screen.frame.crisis else {
        // A support line in the body: its country is still named.
        return screen
            .frame
            .region_note
            .as_ref()
            .map(|note| format!("{}\n\n", style.dim(note)))
            .unwrap_or_default();
    };
    let mut out = if last {
        format!("\n{}", crate::crisis::render(resources, style))
    } else {
        crate::crisis::render_list(resources, style)
    };
    if let Some(note) = &screen.frame.region_note {
        out.push_str(&format!("{}\n", style.dim(note)));
    }
    out.push('\n');
    out
}

fn draw_block(block: &Block, style: Style) -> String {
    match block {
        Block::Text(text) => format!("{text}\n\n"),
        Block::Notice(text) => format!("{}\n\n", style.bold(text)),
        Block::Note(text) => format!("{}\n", style.dim(text)),
        Block::Outcome { words, headline } => {
            format!("{} {headline}\n\n", style.bold(&format!("{words}.")))
        }
        Block::Report { report, .. } => format!("{}\n", render_report(report, style)),
        Block::Link { label, href } => format!("{label}: {href}\n\n"),
        // Only the hosted page offers a download; a terminal has saved already.
        Block::OwnCopy { .. } => String::new(),
    }
}

fn render_report(report: &Report, style: Style) -> String {
    crate::report::terminal::render(report, style)
}

/// A report screen as the pager shows it: how to close it, the numbers when
/// they apply, then the report (its recommendation first).
fn paged_text(screen: &Screen, style: Style) -> String {
    let mut out = format!(
        "{}\n\n",
        style.dim("Press q to close this and go on. ↑↓ or Space to scroll.")
    );
    out.push_str(&frame(screen, style, false));
    for block in &screen.body {
        out.push_str(&draw_block(block, style));
    }
    out
}

fn pager_usable(style: Style) -> bool {
    !style.plain && crate::term::interactive()
}

#[cfg(test)]
mod tests;
