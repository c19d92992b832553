//! NeverSent: finds the bounces of mail you never sent (backscatter) and clears them away
//! safely. Data flows one way: mail store → analysis → triage → UI/CLI; commands flow back.

pub mod analyze_cli;
pub mod bounce;
pub mod clean;
pub mod cli;
pub mod config;
pub mod mailstore;
pub mod scan;
pub mod triage;
#[cfg(feature = "gui")]
pub mod ui;
