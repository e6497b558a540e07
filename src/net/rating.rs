//! Pure rules: measurements → `video.rating`. (Thresholds arrive under issue 3.)
use super::model::*;

/// Rate a 1:1 video call. `None` means nothing was measured.
pub fn rate_video(_measured: Option<&NetworkReport>) -> VideoAssessment {
    VideoAssessment {
        rating: VideoRating::Unusable,
        mos: None,
        reasons: vec!["The connection could not be measured.".to_string()],
    }
}
