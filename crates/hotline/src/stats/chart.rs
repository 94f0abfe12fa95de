//! Geometry of the server-rendered SVG charts (user units); the templates draw them with
//! a `<title>`, a `<desc>` listing every value and the data table beside each chart.

use serde::Serialize;

/// A horizontal bar chart: each row's label above its bar, the value after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BarChart {
    pub width: u32,
    pub height: u32,
    pub bar_height: u32,
    pub bars: Vec<Bar>,
    /// Every label with its value, for `<desc>`.
    pub desc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bar {
    pub label: String,
    pub value: String,
    pub label_y: u32,
    pub bar_y: u32,
    pub bar_width: u32,
    pub value_x: u32,
    pub value_y: u32,
}

const BAR_WIDTH: u32 = 420;
const BAR_MAX: u32 = 300;
const ROW_H: u32 = 44;
const BAR_H: u32 = 16;

/// `rows`: (label, value); bars are scaled to the largest value.
pub fn bars(rows: &[(String, i64)], unit: &str) -> BarChart {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let top = i as u32 * ROW_H;
            // At least one unit wide, so a zero still shows where the bar starts.
            let w = ((v.max(&0) * i64::from(BAR_MAX)) / max).max(1) as u32;
            Bar {
                label: label.clone(),
                value: format!("{v}{unit}"),
                label_y: top + 15,
                bar_y: top + 21,
                bar_width: w,
                value_x: w + 8,
                value_y: top + 34,
            }
        })
        .collect();
    let desc = rows.iter().map(|(l, v)| format!("{l} {v}{unit}")).collect::<Vec<_>>().join("；");
    BarChart { width: BAR_WIDTH, height: rows.len() as u32 * ROW_H + 4, bar_height: BAR_H, bars, desc }
}

/// A line chart of several series over the same labels (e.g. twelve months).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineChart {
    pub width: u32,
    pub height: u32,
    pub left: u32,
    pub right: u32,
    pub top: u32,
    pub bottom: u32,
    pub x_labels: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    pub series: Vec<Series>,
    pub desc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tick {
    pub text: String,
    pub x: u32,
    pub y: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    /// The polyline's `points` attribute.
    pub points: String,
    pub dots: Vec<Dot>,
    /// Where the legend entry goes.
    pub legend_x: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dot {
    pub x: u32,
    pub y: u32,
    pub title: String,
}

const COLOURS: [&str; 4] = ["#1f5fa8", "#c4561b", "#2e7d4f", "#8a3a7a"];

/// The smallest "nice" step (1, 2 or 5 × 10^n) that splits `max` into at most 5 ticks.
fn nice_step(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if max <= step * m * 5 {
                return step * m;
            }
        }
        step *= 10;
    }
}

pub fn lines(labels: &[String], series: &[(String, Vec<i64>)]) -> LineChart {
    let (width, height, left, right, top, bottom) = (640u32, 260u32, 48u32, 624u32, 36u32, 220u32);
    let max = series.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0).max(1);
    let step = nice_step(max);
    let top_value = ((max + step - 1) / step) * step;
    let n = labels.len().max(1) as u32;
    let slot = (right - left) / n;
    let x_of = |i: usize| left + slot * i as u32 + slot / 2;
    let y_of = |v: i64| bottom - ((v.max(0) * i64::from(bottom - top)) / top_value) as u32;
    let x_labels =
        labels.iter().enumerate().map(|(i, l)| Tick { text: l.clone(), x: x_of(i), y: bottom + 18 }).collect();
    let y_ticks = (0..=top_value / step)
        .map(|k| {
            let v = k * step;
            Tick { text: v.to_string(), x: left - 6, y: y_of(v) }
        })
        .collect();
    let series: Vec<Series> = series
        .iter()
        .enumerate()
        .map(|(si, (name, values))| {
            let dots: Vec<Dot> = values
                .iter()
                .enumerate()
                .take(labels.len())
                .map(|(i, v)| Dot { x: x_of(i), y: y_of(*v), title: format!("{} {name} {v}", labels[i]) })
                .collect();
            Series {
                name: name.clone(),
                colour: COLOURS[si % COLOURS.len()],
                points: dots.iter().map(|d| format!("{},{}", d.x, d.y)).collect::<Vec<_>>().join(" "),
                dots,
                legend_x: left + 120 * si as u32,
            }
        })
        .collect();
    let desc = series
        .iter()
        .map(|s| format!("{}：{}", s.name, s.dots.iter().map(|d| d.title.clone()).collect::<Vec<_>>().join("，")))
        .collect::<Vec<_>>()
        .join("；");
    LineChart { width, height, left, right, top, bottom, x_labels, y_ticks, series, desc }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest() {
        let c = bars(&[("电话".into(), 10), ("网站".into(), 5), ("微信".into(), 0)], "件");
        assert_eq!(c.bars[0].bar_width, BAR_MAX);
        assert_eq!(c.bars[1].bar_width, BAR_MAX / 2);
        assert_eq!(c.bars[2].bar_width, 1);
        assert_eq!(c.bars[1].value, "5件");
        assert_eq!(c.desc, "电话 10件；网站 5件；微信 0件");
        assert_eq!(c.height, 3 * ROW_H + 4);
    }

    #[test]
    fn lines_have_nice_ticks_and_points() {
        assert_eq!(nice_step(1), 1);
        assert_eq!(nice_step(7), 2);
        assert_eq!(nice_step(23), 5);
        assert_eq!(nice_step(480), 100);
        let labels: Vec<String> = (1..=3).map(|m| format!("{m}月")).collect();
        let c = lines(&labels, &[("受理".into(), vec![0, 4, 8]), ("办结".into(), vec![0, 2, 8])]);
        assert_eq!(c.y_ticks.last().map(|t| t.text.as_str()), Some("8"));
        assert_eq!(c.series[0].dots[0].y, c.bottom);
        assert_eq!(c.series[0].dots.len(), 3);
        assert!(c.series[1].points.split(' ').count() == 3);
        assert!(c.desc.starts_with("受理：1月 受理 0，2月 受理 4"), "{}", c.desc);
    }
}
