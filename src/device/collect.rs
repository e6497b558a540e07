//! Reads the machine. (Filled in under issue 2.)
use super::{DeviceFacts, DeviceReport};

pub fn collect() -> DeviceReport {
    super::rules::rate(&DeviceFacts::default())
}
