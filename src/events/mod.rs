//! Village events (议事会, a clean-up day, 壮族三月三): the committee creates one against
//! a checklist item and shows or prints its QR; villagers check in by scanning it (or a
//! cadre ticks households at the door); closing the event turns each household's
//! check-in into one approved claim against the item, within its cap (API.md "Members,
//! events and notices").

pub mod http;
pub mod model;
pub mod service;
mod store;
