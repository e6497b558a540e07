//! Pure rating of the camera, microphone and speaker test that runs in the
//! local browser page (`check --browser`). The page only measures: it sends
//! these numbers over loopback and shows the words rated here, so the rules
//! live in one place, with their figures in data/media_thresholds.json.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DeviceItem, DeviceRating};

/// What the browser allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// The device was opened.
    Granted,
    /// The client or the browser said no.
    Denied,
    /// The browser found no such device.
    NoDevice,
    /// The browser could not open it (in use by another program, or unsupported).
    Unavailable,
}

/// Figures from the self-view: frames counted and the brightness of the picture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CameraMeasure {
    pub access: Access,
    /// Frames that arrived during the test.
    pub frames: u32,
    pub width: u32,
    pub height: u32,
    /// Frames per second over the test.
    pub fps: f32,
    /// Mean brightness of the whole picture, 0–255.
    pub luma_mean: f32,
    /// Spread of brightness across the picture (standard deviation, 0–255).
    pub luma_stddev: f32,
    /// Mean brightness of the centre (where a face usually is), 0–255.
    pub centre_luma: f32,
    /// Mean brightness of the rest of the picture, 0–255.
    pub surround_luma: f32,
}

/// Figures from the two listening phases (quiet, then speaking).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MicrophoneMeasure {
    pub access: Access,
    /// Background level while the client kept quiet (a low percentile of 50 ms windows), dBFS.
    pub noise_floor_dbfs: f32,
    /// Voice level while the client spoke (a high percentile of 50 ms windows), dBFS.
    pub speech_dbfs: f32,
    /// Share of samples at full scale while speaking, percent.
    pub clipped_pct: f32,
}

/// The client's answer after the chime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Heard {
    Yes,
    No,
    NotSure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeakerMeasure {
    pub heard: Heard,
}

/// Everything the page measured; a part the client did not reach stays `None`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct MediaMeasurements {
    pub camera: Option<CameraMeasure>,
    pub microphone: Option<MicrophoneMeasure>,
    pub speakers: Option<SpeakerMeasure>,
}

/// A figure from the page outside what a browser can produce: the whole
/// message is refused rather than clamped, as nothing from the page is trusted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} is out of range")]
pub struct OutOfRange(pub &'static str);

fn within(name: &'static str, value: f32, low: f32, high: f32) -> Result<(), OutOfRange> {
    if value.is_finite() && (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(OutOfRange(name))
    }
}

impl CameraMeasure {
    pub fn check(&self) -> Result<(), OutOfRange> {
        for (name, v) in [
            ("luma_mean", self.luma_mean),
            ("luma_stddev", self.luma_stddev),
            ("centre_luma", self.centre_luma),
            ("surround_luma", self.surround_luma),
        ] {
            within(name, v, 0.0, 255.0)?;
        }
        within("fps", self.fps, 0.0, 1000.0)?;
        if self.width > 16384 || self.height > 16384 {
            return Err(OutOfRange("width or height"));
        }
        Ok(())
    }
}

impl MicrophoneMeasure {
    pub fn check(&self) -> Result<(), OutOfRange> {
        within("noise_floor_dbfs", self.noise_floor_dbfs, -200.0, 0.0)?;
        within("speech_dbfs", self.speech_dbfs, -200.0, 0.0)?;
        within("clipped_pct", self.clipped_pct, 0.0, 100.0)
    }
}

/// The thresholds file, embedded at build time.
#[derive(Debug, Deserialize)]
pub struct MediaThresholds {
    pub camera: CameraThresholds,
    pub microphone: MicrophoneThresholds,
}

#[derive(Debug, Deserialize)]
pub struct CameraThresholds {
    pub min_frames: u32,
    pub low_fps_below: f32,
    pub black_luma_below: f32,
    pub black_stddev_below: f32,
    pub dark_luma_below: f32,
    pub backlit_surround_above: f32,
    pub backlit_gap_above: f32,
}

#[derive(Debug, Deserialize)]
pub struct MicrophoneThresholds {
    pub clipping_pct_above: f32,
    pub quiet_speech_below_dbfs: f32,
    pub noisy_floor_above_dbfs: f32,
    pub noisy_gap_below_db: f32,
}

pub fn thresholds() -> &'static MediaThresholds {
    crate::embedded_data!(MediaThresholds, "media_thresholds.json")
}

/// A rated item that names the browser test's result.
fn item(
    id: &str,
    label: &str,
    result: &str,
    found: String,
    rating: DeviceRating,
    advice: &str,
) -> DeviceItem {
    DeviceItem {
        result: Some(result.to_string()),
        ..DeviceItem::new(id, label, found, rating, advice)
    }
}

/// When the browser could not open a device: said calmly, with what to do.
fn not_opened(id: &str, label: &str, access: Access) -> Option<DeviceItem> {
    let what = label.to_lowercase();
    let (result, found, advice) = match access {
        Access::Granted => return None,
        Access::Denied => (
            "not-allowed",
            "the browser was not allowed to use it".to_string(),
            format!(
                "That is fine for now. Your video app will ask for the {what} too: allowing it there lets your therapist {}.",
                if id == "camera" {
                    "see you"
                } else {
                    "hear you"
                }
            ),
        ),
        Access::NoDevice => (
            "none-found",
            format!("the browser found no {what}"),
            format!(
                "A {what} is needed for a video session: plug one in, or use a phone or tablet for sessions."
            ),
        ),
        Access::Unavailable => (
            "unavailable",
            format!("the browser could not open the {what}"),
            format!(
                "Another program may be using the {what}. Closing other video or call apps, then trying again, usually helps."
            ),
        ),
    };
    let rating = if access == Access::NoDevice {
        DeviceRating::Problem
    } else {
        DeviceRating::Caution
    };
    Some(item(id, label, result, found, rating, &advice))
}

/// Rate the self-view: black, backlit, too dark, slow or fine.
pub fn rate_camera(m: &CameraMeasure, t: &CameraThresholds) -> DeviceItem {
    const ID: &str = "camera";
    const LABEL: &str = "Camera";
    if let Some(item) = not_opened(ID, LABEL, m.access) {
        return item;
    }
    if m.frames < t.min_frames {
        return item(
            ID,
            LABEL,
            "no-frames",
            format!("opened, but only {} picture(s) arrived", m.frames),
            DeviceRating::Problem,
            "The camera opened but sent no picture. Closing other video apps, or unplugging and replugging the camera, usually helps.",
        );
    }
    let found = format!(
        "tested: {}x{}, {:.0} frames a second, brightness {:.0} of 255",
        m.width, m.height, m.fps, m.luma_mean
    );
    if m.luma_mean < t.black_luma_below && m.luma_stddev < t.black_stddev_below {
        return item(
            ID,
            LABEL,
            "covered",
            found,
            DeviceRating::Problem,
            "The picture is black. The lens may be covered, or a privacy shutter closed: sliding it open lets your therapist see you.",
        );
    }
    if m.surround_luma > t.backlit_surround_above
        && m.surround_luma - m.centre_luma > t.backlit_gap_above
    {
        return item(
            ID,
            LABEL,
            "backlit",
            found,
            DeviceRating::Caution,
            "There is bright light behind you, so your face is in shadow. A lamp or window in front of you, not behind, helps your therapist see you.",
        );
    }
    if m.luma_mean < t.dark_luma_below {
        return item(
            ID,
            LABEL,
            "too-dark",
            found,
            DeviceRating::Caution,
            "The picture is quite dark. Turning on a light, with a lamp or window in front of you, helps your therapist see your face.",
        );
    }
    if m.fps < t.low_fps_below {
        return item(
            ID,
            LABEL,
            "low-frame-rate",
            found,
            DeviceRating::Caution,
            "The picture updates slowly. Closing other programs, and more light in the room, often help the camera keep up.",
        );
    }
    item(
        ID,
        LABEL,
        "tested-ok",
        found,
        DeviceRating::Ok,
        "Your camera works and the picture is clear.",
    )
}

/// What the page shows for a tested microphone: the levels in plain words.
/// Decibels relative to full scale mean nothing to a client; the report and
/// the JSON keep the figures.
pub fn microphone_for_the_page(mut item: DeviceItem) -> DeviceItem {
    if matches!(
        item.result.as_deref(),
        Some("clear" | "quiet" | "noisy" | "clipping")
    ) {
        item.found = "tested while you were quiet and while you spoke".into();
    }
    item
}

/// Rate the two listening phases: clipping, quiet, noisy or clear.
pub fn rate_microphone(m: &MicrophoneMeasure, t: &MicrophoneThresholds) -> DeviceItem {
    const ID: &str = "microphone";
    const LABEL: &str = "Microphone";
    if let Some(item) = not_opened(ID, LABEL, m.access) {
        return item;
    }
    let found = format!(
        "tested: voice {:.0} dBFS, background {:.0} dBFS, {:.1}% at full scale",
        m.speech_dbfs, m.noise_floor_dbfs, m.clipped_pct
    );
    if m.clipped_pct > t.clipping_pct_above {
        return item(
            ID,
            LABEL,
            "clipping",
            found,
            DeviceRating::Caution,
            "Your voice is so loud that it distorts. Sitting a little further from the microphone, or turning its volume down in your sound settings, will make you clearer.",
        );
    }
    if m.speech_dbfs < t.quiet_speech_below_dbfs {
        return item(
            ID,
            LABEL,
            "quiet",
            found,
            DeviceRating::Caution,
            "Your voice came through very quietly. Check the microphone is not muted, sit a little closer, or turn its volume up in your sound settings.",
        );
    }
    if m.noise_floor_dbfs > t.noisy_floor_above_dbfs
        || m.speech_dbfs - m.noise_floor_dbfs < t.noisy_gap_below_db
    {
        return item(
            ID,
            LABEL,
            "noisy",
            found,
            DeviceRating::Caution,
            "There is a lot of background sound. A quieter spot, a closed door, or a headset with a microphone will help your therapist hear you.",
        );
    }
    item(
        ID,
        LABEL,
        "clear",
        found,
        DeviceRating::Ok,
        "Your microphone works and your voice comes through clearly.",
    )
}

/// Rate the chime answer.
pub fn rate_speakers(m: &SpeakerMeasure) -> DeviceItem {
    const ID: &str = "speakers";
    const LABEL: &str = "Speakers";
    match m.heard {
        Heard::Yes => item(
            ID,
            LABEL,
            "heard",
            "the chime was heard".into(),
            DeviceRating::Ok,
            "Your speakers or headphones work.",
        ),
        Heard::No => item(
            ID,
            LABEL,
            "not-heard",
            "the chime was not heard".into(),
            DeviceRating::Caution,
            "Check the volume is up and not muted, and that sound goes to the speakers or headphones you mean to use (in your computer's sound settings). Then play the chime again.",
        ),
        Heard::NotSure => item(
            ID,
            LABEL,
            "not-sure",
            "not sure the chime was heard".into(),
            DeviceRating::Caution,
            "Turning the volume up and playing the chime again can help. Headphones also keep the session private.",
        ),
    }
}

/// The camera, microphone and speaker items from what the page measured; a
/// part the client did not reach is said to be untested.
pub fn rate(media: &MediaMeasurements) -> [DeviceItem; 3] {
    let t = thresholds();
    let untested = |id: &str, label: &str| {
        item(
            id,
            label,
            "not-tested",
            "not tested".into(),
            DeviceRating::Unknown,
            "The browser test did not reach this part. Your video app will check it when you join.",
        )
    };
    [
        media
            .camera
            .map(|m| rate_camera(&m, &t.camera))
            .unwrap_or_else(|| untested("camera", "Camera")),
        media
            .microphone
            .map(|m| rate_microphone(&m, &t.microphone))
            .unwrap_or_else(|| untested("microphone", "Microphone")),
        media
            .speakers
            .map(|m| rate_speakers(&m))
            .unwrap_or_else(|| untested("speakers", "Speakers")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit() -> CameraMeasure {
        CameraMeasure {
            access: Access::Granted,
            frames: 90,
            width: 640,
            height: 480,
            fps: 30.0,
            luma_mean: 120.0,
            luma_stddev: 40.0,
            centre_luma: 125.0,
            surround_luma: 118.0,
        }
    }

    fn voice() -> MicrophoneMeasure {
        MicrophoneMeasure {
            access: Access::Granted,
            noise_floor_dbfs: -65.0,
            speech_dbfs: -24.0,
            clipped_pct: 0.0,
        }
    }

    fn camera(m: CameraMeasure) -> String {
        rate_camera(&m, &thresholds().camera).result.unwrap()
    }

    fn microphone(m: MicrophoneMeasure) -> String {
        rate_microphone(&m, &thresholds().microphone)
            .result
            .unwrap()
    }

    #[test]
    fn the_page_shows_the_microphone_without_decibels() {
        let t = thresholds();
        let m = MicrophoneMeasure {
            access: Access::Granted,
            noise_floor_dbfs: -65.0,
            speech_dbfs: -24.0,
            clipped_pct: 0.0,
        };
        let rated = rate_microphone(&m, &t.microphone);
        assert!(rated.found.contains("dBFS"));
        let shown = microphone_for_the_page(rated.clone());
        assert!(!shown.found.contains("dB"), "{}", shown.found);
        assert_eq!((shown.rating, &shown.advice), (rated.rating, &rated.advice));
    }

    #[test]
    fn thresholds_file_parses() {
        let t = thresholds();
        assert!(t.camera.black_luma_below < t.camera.dark_luma_below);
        assert!(t.microphone.noisy_floor_above_dbfs > t.microphone.quiet_speech_below_dbfs - 30.0);
    }

    #[test]
    fn camera_ratings_follow_the_picture() {
        assert_eq!(camera(lit()), "tested-ok");
        let dark = CameraMeasure {
            luma_mean: 30.0,
            luma_stddev: 12.0,
            centre_luma: 32.0,
            surround_luma: 29.0,
            ..lit()
        };
        assert_eq!(camera(dark), "too-dark");
        let backlit = CameraMeasure {
            luma_mean: 170.0,
            centre_luma: 50.0,
            surround_luma: 220.0,
            ..lit()
        };
        assert_eq!(camera(backlit), "backlit");
        let black = CameraMeasure {
            luma_mean: 1.0,
            luma_stddev: 0.5,
            centre_luma: 1.0,
            surround_luma: 1.0,
            ..lit()
        };
        assert_eq!(camera(black), "covered");
        assert_eq!(camera(CameraMeasure { frames: 0, ..lit() }), "no-frames");
        assert_eq!(
            camera(CameraMeasure { fps: 4.0, ..lit() }),
            "low-frame-rate"
        );
        // A bright but evenly lit room is not backlit.
        let bright = CameraMeasure {
            luma_mean: 200.0,
            centre_luma: 190.0,
            surround_luma: 205.0,
            ..lit()
        };
        assert_eq!(camera(bright), "tested-ok");
    }

    #[test]
    fn microphone_ratings_follow_the_levels() {
        assert_eq!(microphone(voice()), "clear");
        assert_eq!(
            microphone(MicrophoneMeasure {
                clipped_pct: 4.0,
                ..voice()
            }),
            "clipping"
        );
        assert_eq!(
            microphone(MicrophoneMeasure {
                speech_dbfs: -100.0,
                noise_floor_dbfs: -100.0,
                ..voice()
            }),
            "quiet"
        );
        assert_eq!(
            microphone(MicrophoneMeasure {
                noise_floor_dbfs: -30.0,
                ..voice()
            }),
            "noisy"
        );
        assert_eq!(
            microphone(MicrophoneMeasure {
                noise_floor_dbfs: -45.0,
                speech_dbfs: -35.0,
                ..voice()
            }),
            "noisy"
        );
    }

    #[test]
    fn refused_or_missing_devices_are_explained_not_blamed() {
        for (access, result, rating) in [
            (Access::Denied, "not-allowed", DeviceRating::Caution),
            (Access::NoDevice, "none-found", DeviceRating::Problem),
            (Access::Unavailable, "unavailable", DeviceRating::Caution),
        ] {
            let cam = rate_camera(&CameraMeasure { access, ..lit() }, &thresholds().camera);
            assert_eq!((cam.result.as_deref(), cam.rating), (Some(result), rating));
            let mic = rate_microphone(
                &MicrophoneMeasure { access, ..voice() },
                &thresholds().microphone,
            );
            assert_eq!(mic.result.as_deref(), Some(result));
        }
    }

    #[test]
    fn speakers_and_untested_parts() {
        let [cam, mic, spk] = rate(&MediaMeasurements {
            speakers: Some(SpeakerMeasure { heard: Heard::No }),
            ..Default::default()
        });
        assert_eq!(spk.result.as_deref(), Some("not-heard"));
        assert_eq!(spk.rating, DeviceRating::Caution);
        assert_eq!(cam.rating, DeviceRating::Unknown);
        assert_eq!(mic.result.as_deref(), Some("not-tested"));
    }

    #[test]
    fn figures_a_browser_cannot_produce_are_refused() {
        assert!(lit().check().is_ok());
        assert!(
            CameraMeasure {
                luma_mean: f32::NAN,
                ..lit()
            }
            .check()
            .is_err()
        );
        assert!(
            CameraMeasure {
                luma_mean: 300.0,
                ..lit()
            }
            .check()
            .is_err()
        );
        assert!(
            CameraMeasure {
                width: 1 << 20,
                ..lit()
            }
            .check()
            .is_err()
        );
        assert!(voice().check().is_ok());
        assert!(
            MicrophoneMeasure {
                speech_dbfs: 3.0,
                ..voice()
            }
            .check()
            .is_err()
        );
        assert!(
            MicrophoneMeasure {
                clipped_pct: -1.0,
                ..voice()
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn advice_never_blames() {
        let t = thresholds();
        let mut items = vec![
            rate_camera(&CameraMeasure { frames: 0, ..lit() }, &t.camera),
            rate_microphone(
                &MicrophoneMeasure {
                    clipped_pct: 9.0,
                    ..voice()
                },
                &t.microphone,
            ),
            rate_speakers(&SpeakerMeasure { heard: Heard::No }),
        ];
        items.extend(rate(&MediaMeasurements::default()));
        for i in items {
            let text = format!("{} {}", i.found, i.advice).to_lowercase();
            for word in ["fail", "invalid", "error", "bad"] {
                assert!(!text.contains(word), "{}: {text}", i.id);
            }
        }
    }
}
