//! The front-ends that draw a visit (`crate::visit`): each only draws the
//! screen model and sends back the person's choice. The local page lives in
//! `crate::page`.
pub mod terminal;
