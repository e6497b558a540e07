//! Pure rating of device facts. (Filled in under issue 2.)
use super::{DeviceFacts, DeviceRating, DeviceReport};

pub fn rate(facts: &DeviceFacts) -> DeviceReport {
    DeviceReport {
        facts: facts.clone(),
        items: vec![],
        overall: DeviceRating::Unknown,
        sources: vec![],
    }
}
