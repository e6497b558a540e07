//! Terminal and JSON output of the device check.
use crate::cli::NetworkFormat;
use crate::term::Style;

use super::DeviceReport;

pub fn render(
    report: &DeviceReport,
    format: NetworkFormat,
    _style: Style,
) -> anyhow::Result<Vec<u8>> {
    match format {
        NetworkFormat::Json => {
            let mut out = serde_json::to_vec_pretty(report)?;
            out.push(b'\n');
            Ok(out)
        }
        NetworkFormat::Terminal => Ok(format!("{report:?}\n").into_bytes()),
    }
}
