//! "Pause and finish later" in the hosted check: a link to carry on instead
//! of a draft on the server.
//!
//! A paused visit's state (the walk, as `questionnaire::draft::Draft`) is
//! sealed with AES-256-GCM under a random 256-bit key that only the link
//! holds (`/r/ID.KEY`); the server keeps the ciphertext alone, by id, in
//! memory, until the link is used (once), the invitation expires, or the
//! server stops. The key is in the path, not the fragment, so the link works
//! without JavaScript; `serve` never logs a path, and a proxy in front must
//! not either (docs/hosting.md). The ciphertext is too large to ride in the
//! link itself (a plan answer is up to 500 characters), and kept on no disk,
//! so nothing of a paused visit outlives the server.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::invite::Invitation;
use crate::questionnaire::draft::{self, Draft};
use crate::report::{Report, View};
use crate::visit::storage::{DraftPlace, Inbox, SaveProblem, Storage};

/// The largest sealed state one visit may keep (a whole walk with every
/// plan answer at its longest is about 12 kB).
pub const MAX_SEALED: usize = 64 * 1024;

/// Where a paused visit's link leads.
pub const PREFIX: &str = "/r/";

/// One paused visit: its invitation and its sealed state (nonce first).
struct Paused {
    invitation: Invitation,
    sealed: Vec<u8>,
}

/// The paused visits a server holds, by id: ciphertext only.
pub struct PausedVisits {
    map: Mutex<HashMap<String, Paused>>,
    /// At most this many at once (each at most `MAX_SEALED`).
    cap: usize,
}

/// Why a link to carry on opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// Used already, never made, or the server restarted since.
    Unknown,
    /// The invitation it belongs to has expired.
    Expired,
}

impl PausedVisits {
    pub fn new(cap: usize) -> PausedVisits {
        PausedVisits {
            map: Mutex::default(),
            cap,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Paused>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn put(&self, id: &str, paused: Paused) -> Result<(), String> {
        let now = chrono::Utc::now().timestamp();
        let mut map = self.lock();
        map.retain(|_, p| p.invitation.expires > now);
        if !map.contains_key(id) && map.len() >= self.cap {
            return Err("this service is holding as many paused checks as it can".into());
        }
        map.insert(id.to_string(), paused);
        Ok(())
    }

    fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    fn contains(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    /// How many are held (tests, metrics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Open the paused visit `link` (`ID.KEY`) leads to, once: its
    /// invitation and its state. A wrong key opens nothing and uses nothing.
    pub fn take(&self, link: &str, now: i64) -> Result<(Invitation, Draft), Gone> {
        let (id, key) = parse(link).ok_or(Gone::Unknown)?;
        let mut map = self.lock();
        let paused = map.get(&id).ok_or(Gone::Unknown)?;
        if paused.invitation.expires <= now {
            map.remove(&id);
            return Err(Gone::Expired);
        }
        let draft = open(&key, &id, &paused.sealed).ok_or(Gone::Unknown)?;
        let paused = map.remove(&id).ok_or(Gone::Unknown)?;
        Ok((paused.invitation, draft))
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The system's generator does not fail on any platform this runs on.
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random generator");
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// `ID.KEY` → the id (32 hex digits) and the key.
fn parse(link: &str) -> Option<(String, [u8; 32])> {
    let (id, key) = link.split_once('.')?;
    unhex::<16>(id)?;
    Some((id.to_string(), unhex::<32>(key)?))
}

fn cipher(key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("a 256-bit key"))
}

/// Seal `draft` under `key`, bound to `id` (a ciphertext moved to another
/// id opens nothing).
fn seal(key: &[u8; 32], id: &str, draft: &Draft) -> Result<Vec<u8>, String> {
    let mut data = serde_json::to_vec(draft).map_err(|e| e.to_string())?;
    if data.len() + NONCE_LEN + AES_256_GCM.tag_len() > MAX_SEALED {
        return Err("your answers are longer than a paused check can hold".into());
    }
    let nonce = random::<NONCE_LEN>();
    cipher(key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(id.as_bytes()),
            &mut data,
        )
        .map_err(|_| "the answers could not be locked".to_string())?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&data);
    Ok(sealed)
}

fn open(key: &[u8; 32], id: &str, sealed: &[u8]) -> Option<Draft> {
    let nonce: [u8; NONCE_LEN] = sealed.get(..NONCE_LEN)?.try_into().ok()?;
    let mut data = sealed[NONCE_LEN..].to_vec();
    let plain = cipher(key)
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(id.as_bytes()),
            &mut data,
        )
        .ok()?;
    let text = std::str::from_utf8(plain).ok()?;
    // The same checks as a draft read from a file.
    draft::parse(std::path::Path::new("the link"), text).ok()
}

/// The hosted check's store: the report goes to the inbox (`Inbox`); a
/// paused visit's state goes, sealed, to `PausedVisits` under this visit's
/// own id and key, which only its link carries.
pub struct HostedStore {
    inbox: Inbox,
    paused: Arc<PausedVisits>,
    invitation: Invitation,
    id: String,
    key: [u8; 32],
    /// The state a link to carry on opened, offered once ("Welcome back").
    resumed: Option<Draft>,
}

impl HostedStore {
    /// A store for a new visit, or for one carried on from a link
    /// (`resumed`): that state is sealed again at once under a new link, so
    /// "not now" leaves the person a link that still works.
    pub fn new(
        inbox: Inbox,
        paused: Arc<PausedVisits>,
        invitation: Invitation,
        resumed: Option<Draft>,
    ) -> HostedStore {
        let mut store = HostedStore {
            inbox,
            paused,
            invitation,
            id: hex(&random::<16>()),
            key: random::<32>(),
            resumed: None,
        };
        if let Some(draft) = resumed {
            // Without room, the visit goes on; only pausing keeps nothing.
            let _ = store.keep(true, &draft);
            store.resumed = Some(draft);
        }
        store
    }
}

impl Storage for HostedStore {
    fn draft(&self) -> DraftPlace {
        match &self.resumed {
            Some(draft) => DraftPlace::Kept(Box::new(draft.clone())),
            None => DraftPlace::Empty,
        }
    }

    fn keep(&mut self, keep: bool, draft: &Draft) -> Result<(), String> {
        if !keep {
            self.paused.remove(&self.id);
            return Ok(());
        }
        let sealed = seal(&self.key, &self.id, draft).inspect_err(|_| {
            self.paused.remove(&self.id);
        })?;
        self.paused.put(
            &self.id,
            Paused {
                invitation: self.invitation.clone(),
                sealed,
            },
        )
    }

    fn forget(&mut self) -> Result<(), String> {
        self.paused.remove(&self.id);
        self.resumed = None;
        Ok(())
    }

    fn kept(&self) -> bool {
        self.paused.contains(&self.id)
    }

    /// The link to carry on (root-relative: the page's own site).
    fn place(&self) -> Option<String> {
        Some(format!("{PREFIX}{}.{}", self.id, hex(&self.key)))
    }

    fn suggested_name(&self, _watched: bool) -> String {
        self.inbox.suggested_name()
    }

    fn save(
        &mut self,
        report: &Report,
        view: View,
        _name: Option<&str>,
        _watched: bool,
    ) -> Result<String, SaveProblem> {
        self.inbox.save(report, view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::flow::FlowState;

    fn invitation(expires: i64) -> Invitation {
        Invitation {
            id: "0123456789abcdef0123456789abcdef".into(),
            client_ref: None,
            expires,
        }
    }

    fn store(paused: &Arc<PausedVisits>, expires: i64) -> HostedStore {
        let inbox = Inbox {
            dir: std::env::temp_dir(),
            recipient: String::new(),
            id: "x".into(),
            arrivals: None,
        };
        HostedStore::new(inbox, paused.clone(), invitation(expires), None)
    }

    fn draft(plan: &str) -> Draft {
        let mut state = FlowState::default();
        state.answers.insert("start.safe_now".into(), "yes".into());
        state.plan.insert("place".into(), Some(plan.into()));
        Draft::new(draft::now(), Some("GB".into()), state)
    }

    #[test]
    fn a_link_opens_its_paused_state_once_and_only_with_its_key() {
        let paused = Arc::new(PausedVisits::new(4));
        let far = chrono::Utc::now().timestamp() + 3600;
        let mut s = store(&paused, far);
        let kept = draft("the armchair by the window");
        s.keep(true, &kept).unwrap();
        assert!(s.kept());
        let link = s.place().unwrap();
        let link = link.strip_prefix(PREFIX).unwrap();
        // The server holds ciphertext only.
        {
            let map = paused.lock();
            let sealed = &map.values().next().unwrap().sealed;
            assert!(!sealed.windows(8).any(|w| w == b"armchair"));
        }
        // Another key (one digit changed) opens nothing and uses nothing.
        let mut wrong = link.to_string().into_bytes();
        let last = wrong.len() - 1;
        wrong[last] = if wrong[last] == b'0' { b'1' } else { b'0' };
        let wrong = String::from_utf8(wrong).unwrap();
        let now = chrono::Utc::now().timestamp();
        assert_eq!(paused.take(&wrong, now).unwrap_err(), Gone::Unknown);
        let (inv, back) = paused.take(link, now).unwrap();
        assert_eq!(inv.expires, far);
        assert_eq!(back.state, kept.state);
        // Once.
        assert_eq!(paused.take(link, now).unwrap_err(), Gone::Unknown);
    }

    #[test]
    fn an_expired_invitation_takes_its_paused_state_with_it() {
        let paused = Arc::new(PausedVisits::new(4));
        let soon = chrono::Utc::now().timestamp() + 60;
        let mut s = store(&paused, soon);
        s.keep(true, &draft("here")).unwrap();
        let link = s.place().unwrap();
        let later = soon + 1;
        assert_eq!(
            paused.take(link.strip_prefix(PREFIX).unwrap(), later),
            Err(Gone::Expired)
        );
        assert!(paused.is_empty());
    }

    #[test]
    fn the_longest_walk_a_client_can_make_fits_the_hard_size() {
        // Every question answered with its longest option id, every plan
        // answer at its longest in four-byte characters.
        let bank = crate::questionnaire::bank();
        let mut state = FlowState::default();
        for q in &bank.questions {
            let longest = q
                .valid_values()
                .into_iter()
                .max_by_key(|v| v.len())
                .unwrap();
            state.answers.insert(q.id.clone(), longest.to_string());
        }
        let longest = "\u{1d11e}".repeat(crate::safe_text::MAX_FIELD_CHARS);
        for p in &bank.plan.prompts {
            state.plan.insert(p.id.clone(), Some(longest.clone()));
        }
        let state = crate::questionnaire::flow::Flow::resume(bank, state).state;
        let full = Draft::new(draft::now(), Some("GB".into()), state);
        let sealed = seal(&[7; 32], "0123456789abcdef0123456789abcdef", &full).unwrap();
        assert!(sealed.len() < MAX_SEALED / 2, "{}", sealed.len());
        let back = open(&[7; 32], "0123456789abcdef0123456789abcdef", &sealed).unwrap();
        assert_eq!(back.state, full.state);
    }

    #[test]
    fn a_visit_let_go_before_its_farewell_leaves_nothing_sealed_behind() {
        use crate::questionnaire::walk::Event;
        use crate::visit::{Action, FrontEnd, Visit, VisitPlan};
        let paused = Arc::new(PausedVisits::new(4));
        let far = chrono::Utc::now().timestamp() + 3600;
        let plan = VisitPlan {
            front_end: FrontEnd::Hosted,
            regions: crate::crisis::RegionSources {
                flag: Some("GB".into()),
                ..Default::default()
            },
            clinic: None,
            client_ref: None,
            clinic_key: true,
            output_named: true,
            servers: None,
            media: false,
            network_source: None,
            come_back: "your clinic".into(),
            office_hours: None,
        };
        let walk = |visit: &mut Visit<HostedStore>| {
            visit.act(Action::Walk(Event::Answer("yes".into())));
            visit.act(Action::Walk(Event::Keep(true)));
            visit.act(Action::Walk(Event::Skip));
        };
        // Left idle part-way: the answers sealed so far go with it.
        let mut visit = Visit::new(plan.clone(), store(&paused, far));
        walk(&mut visit);
        assert!(visit.storage().kept(), "sealed as the client answers");
        visit.let_go();
        assert!(paused.is_empty());
        // Paused: the farewell gave the link, and what it opens stays.
        let mut visit = Visit::new(plan, store(&paused, far));
        walk(&mut visit);
        visit.act(Action::Walk(Event::Pause));
        assert!(visit.end().is_some(), "{:?}", visit.screen().id);
        visit.let_go();
        assert_eq!(paused.len(), 1);
    }

    #[test]
    fn keeping_no_more_and_the_cap_are_kept() {
        let paused = Arc::new(PausedVisits::new(1));
        let far = chrono::Utc::now().timestamp() + 3600;
        let mut a = store(&paused, far);
        let mut b = store(&paused, far);
        a.keep(true, &draft("a")).unwrap();
        assert!(b.keep(true, &draft("b")).is_err(), "beyond the cap");
        a.keep(false, &draft("a")).unwrap();
        assert!(!a.kept() && paused.is_empty());
        b.keep(true, &draft("b")).unwrap();
        // A state beyond the hard size is refused, and nothing stays.
        let huge = draft(&"x".repeat(MAX_SEALED));
        assert!(b.keep(true, &huge).is_err());
        assert!(!b.kept());
    }
}
