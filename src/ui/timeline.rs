//! Backscatter per day, as a bar chart: a wave shows at a glance.

use super::format;
use super::review::ReviewList;
use crate::triage::Verdict;
use egui::{Color32, Ui};
use egui_plot::{Bar, BarChart, Plot};
use std::collections::BTreeMap;

/// Counts per day (days since 1970-01-01, UTC), made when the data changes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub days: Vec<(i64, u32)>,
}

impl Timeline {
    /// Backscatter still in the inbox, per day of the bounce's date.
    pub fn from_list(list: &ReviewList) -> Timeline {
        let mut per: BTreeMap<i64, u32> = BTreeMap::new();
        for r in list.live_rows().filter(|r| r.verdict == Some(Verdict::Backscatter)) {
            if let Some(d) = r.date {
                *per.entry(d.div_euclid(86_400)).or_insert(0) += 1;
            }
        }
        Timeline { days: per.into_iter().collect() }
    }

    /// The busiest day and its count.
    pub fn peak(&self) -> Option<(i64, u32)> {
        self.days.iter().copied().max_by_key(|&(day, n)| (n, -day))
    }

    pub fn ui(&self, ui: &mut Ui) {
        let Some((peak_day, peak)) = self.peak() else {
            ui.label("No backscatter with a date to chart.");
            return;
        };
        let first = self.days.first().map(|d| d.0).unwrap_or(peak_day);
        let last = self.days.last().map(|d| d.0).unwrap_or(peak_day);
        ui.label(format!(
            "Backscatter per day, {} to {}: the most in one day was {} on {}.",
            format::day_label(first),
            format::day_label(last),
            format::count(peak as usize),
            format::day_label(peak_day)
        ));
        let bars: Vec<Bar> = self
            .days
            .iter()
            .map(|&(day, n)| Bar::new(day as f64, n as f64).name(format::day_label(day)))
            .collect();
        let chart = BarChart::new("Backscatter per day", bars)
            .width(0.8)
            .color(Color32::from_rgb(0xd0, 0x60, 0x30))
            .element_formatter(Box::new(|bar, _| {
                format!("{}: {} backscatter", bar.name, bar.value)
            }));
        Plot::new("timeline")
            .height(110.0)
            .allow_zoom(false)
            .allow_drag(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
            .show_x(false)
            .include_y(0.0)
            .include_x(first as f64 - 1.0)
            .include_x(last as f64 + 1.0)
            .y_axis_min_width(44.0)
            .x_axis_formatter(move |mark, _| {
                let v = mark.value;
                // Only days within the chart: a tick in the margin egui_plot adds would have its
                // label cut in half at the plot's edge.
                let within = (first - 1) as f64 <= v && v <= (last + 1) as f64;
                if within && (v - v.round()).abs() < 1e-6 {
                    format::day_label(v.round() as i64)
                } else {
                    String::new()
                }
            })
            .y_axis_formatter(|mark, _| {
                let v = mark.value;
                if v >= 0.0 && (v - v.round()).abs() < 1e-6 {
                    format::count(v.round() as usize)
                } else {
                    String::new()
                }
            })
            .show(ui, |plot| plot.bar_chart(chart));
    }
}
