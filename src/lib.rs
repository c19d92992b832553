//! NeverSent: finds the bounces of mail you never sent (backscatter) and clears them away
//! safely. See `docs/DESIGN.md` in the project for the architecture.

pub mod mailstore;
pub mod ui;
