//! Cron schedules as Kubernetes reads them (`CronJob.spec.schedule`, VolSync
//! triggers): five fields — minute, hour, day of month, month, day of week —
//! or one of the `@daily` descriptors. Checked here so that a schedule the
//! API server or the controller would refuse is an error at its line, with a
//! help that says how to write it.

use std::fmt;

/// A checked cron schedule, kept as written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cron {
    /// As written.
    pub text: String,
}

/// The descriptors Kubernetes accepts in place of five fields.
pub const DESCRIPTORS: &[&str] = &["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/// One field of a schedule: its name, bounds and the names it may use.
struct Field {
    what: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field { what: "minute", min: 0, max: 59, names: &[] },
    Field { what: "hour", min: 0, max: 23, names: &[] },
    Field { what: "day of month", min: 1, max: 31, names: &[] },
    Field {
        what: "month",
        min: 1,
        max: 12,
        names: &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    },
    Field { what: "day of week", min: 0, max: 6, names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/// Why a schedule is refused, and how to write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl Cron {
    /// Parses a schedule.
    pub fn parse(text: &str) -> Result<Cron, CronError> {
        let fail = |message: String, help: String| Err(CronError { message, help });
        let trimmed = text.trim();
        if let Some(descriptor) = trimmed.strip_prefix('@') {
            let written = format!("@{}", descriptor.to_ascii_lowercase());
            if DESCRIPTORS.contains(&written.as_str()) {
                return Ok(Cron { text: trimmed.to_string() });
            }
            let help = match crate::suggest::did_you_mean(&written, DESCRIPTORS.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("the descriptors are {}; or write five fields", DESCRIPTORS.join(", ")),
            };
            return fail(format!("`{trimmed}` is not a schedule descriptor"), help);
        }
        if trimmed.starts_with("TZ=") || trimmed.starts_with("CRON_TZ=") {
            return fail(
                "a time zone cannot be given inside the schedule".into(),
                "Kubernetes refuses `TZ=` and `CRON_TZ=` in schedules; write the five fields alone (times are the \
                 controller's, UTC on k3s and kind)"
                    .into(),
            );
        }
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        match fields.len() {
            5 => {}
            6 => {
                return fail(
                    format!("`{trimmed}` has six fields; Kubernetes schedules have five"),
                    format!(
                        "Kubernetes has no seconds field: write `{}` (minute hour day-of-month month day-of-week)",
                        fields[1..].join(" ")
                    ),
                );
            }
            n => {
                return fail(
                    format!("`{trimmed}` has {n} field{}; a schedule has five", if n == 1 { "" } else { "s" }),
                    "write minute, hour, day of month, month and day of week, e.g. `0 3 * * *` for 03:00 every day, \
                     or a descriptor such as `@daily`"
                        .into(),
                );
            }
        }
        for (text, field) in fields.iter().zip(FIELDS.iter()) {
            if let Err(why) = check_field(text, field) {
                return fail(
                    format!("the {} field `{text}` of `{trimmed}` is invalid: {why}", field.what),
                    format!(
                        "a {} is `*`, a number from {} to {}{}, a range `a-b`, a step `*/n`, or a list `a,b`",
                        field.what,
                        field.min,
                        field.max,
                        if field.names.is_empty() { "" } else { " or a name such as `mon`/`jan`" },
                    ),
                );
            }
        }
        Ok(Cron { text: trimmed.to_string() })
    }
}

impl Cron {
    /// The longest time between two runs, in seconds, as an upper bound:
    /// the period of the coarsest field the schedule restricts (a schedule
    /// that restricts the hour runs at least daily), narrowed for `*/n`
    /// steps of the hour and minute. What a "late" alert waits for.
    pub fn longest_gap_seconds(&self) -> u64 {
        const MINUTE: u64 = 60;
        const HOUR: u64 = 3600;
        const DAY: u64 = 24 * HOUR;
        match self.text.to_ascii_lowercase().as_str() {
            "@hourly" => return HOUR,
            "@daily" | "@midnight" => return DAY,
            "@weekly" => return 7 * DAY,
            "@monthly" => return 31 * DAY,
            "@yearly" | "@annually" => return 366 * DAY,
            _ => {}
        }
        let fields: Vec<&str> = self.text.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields.as_slice() else { return 366 * DAY };
        let any = |f: &str| f == "*" || f == "?";
        let every = |f: &str| f.strip_prefix("*/").and_then(|n| n.parse::<u64>().ok());
        if !any(month) {
            366 * DAY
        } else if !any(dom) {
            // The 29th to 31st skip the months without them.
            let late_in_month =
                dom.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u32>().ok()).any(|n| n > 28);
            if late_in_month { 62 * DAY } else { 31 * DAY }
        } else if !any(dow) {
            7 * DAY
        } else if let Some(n) = every(hour) {
            n * HOUR
        } else if !any(hour) {
            DAY
        } else if let Some(n) = every(minute) {
            n * MINUTE
        } else if !any(minute) {
            HOUR
        } else {
            MINUTE
        }
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Checks one field: a comma-separated list of `*`, `?` (day fields),
/// values, ranges, each optionally with a step.
fn check_field(text: &str, field: &Field) -> Result<(), String> {
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (part, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(0) => return Err("a step of 0".into()),
                Ok(_) => {}
                Err(_) => return Err(format!("`{step}` is not a step")),
            }
        }
        if range == "*" {
            continue;
        }
        if range == "?" {
            if matches!(field.what, "day of month" | "day of week") {
                continue;
            }
            return Err("`?` is only allowed in the day fields".into());
        }
        let (low, high) = match range.split_once('-') {
            Some((low, high)) => (value(low, field)?, Some(value(high, field)?)),
            None => (value(range, field)?, None),
        };
        if let Some(high) = high
            && low > high
        {
            return Err(format!("the range `{range}` runs backwards"));
        }
    }
    Ok(())
}

fn value(text: &str, field: &Field) -> Result<u32, String> {
    if text.is_empty() {
        return Err("an empty value".into());
    }
    let lower = text.to_ascii_lowercase();
    if let Some(i) = field.names.iter().position(|n| *n == lower) {
        return Ok(u32::try_from(i).unwrap_or(0) + field.min);
    }
    let n: u32 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
    if n < field.min || n > field.max {
        let hint = if field.what == "day of week" && n == 7 { " (Sunday is 0)" } else { "" };
        return Err(format!("{n} is outside {}-{}{hint}", field.min, field.max));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_kubernetes_accepts() {
        for ok in [
            "0 3 * * *",
            "*/15 * * * *",
            "0 0 1,15 * *",
            "30 2 * * mon-fri",
            "0 4 * JAN,jul SUN",
            "5/10 * * * *",
            "0 0 ? * *",
            "@daily",
            "@Hourly",
            "0-59/5 9-17 * * 1-5",
        ] {
            assert!(Cron::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn gaps_are_upper_bounds_of_the_period() {
        let gap = |s: &str| Cron::parse(s).unwrap().longest_gap_seconds();
        assert_eq!(gap("0 3 * * *"), 86_400);
        assert_eq!(gap("@daily"), 86_400);
        assert_eq!(gap("*/15 * * * *"), 900);
        assert_eq!(gap("0 */6 * * *"), 6 * 3600);
        assert_eq!(gap("30 2 * * mon-fri"), 7 * 86_400);
        assert_eq!(gap("0 0 1 * *"), 31 * 86_400);
        assert_eq!(gap("0 0 31 * *"), 62 * 86_400);
        assert_eq!(gap("0 0 1 1 *"), 366 * 86_400);
        assert_eq!(gap("5 * * * *"), 3600);
    }

    #[test]
    fn refuses_with_a_reason() {
        let six = Cron::parse("0 0 3 * * *").unwrap_err();
        assert!(six.help.contains("`0 3 * * *`"), "{six:?}");
        let misspelt = Cron::parse("@dayly").unwrap_err();
        assert!(misspelt.help.contains("`@daily`"), "{misspelt:?}");
        assert!(Cron::parse("60 * * * *").unwrap_err().message.contains("minute"));
        assert!(Cron::parse("0 0 * * 7").unwrap_err().message.contains("Sunday is 0"));
        assert!(Cron::parse("0 0 * 13 *").is_err());
        assert!(Cron::parse("*/0 * * * *").is_err());
        assert!(Cron::parse("0 5-2 * * *").unwrap_err().message.contains("backwards"));
        assert!(Cron::parse("? * * * *").is_err());
        assert!(Cron::parse("CRON_TZ=UTC 0 3 * * *").is_err());
        assert!(Cron::parse("0 3 * *").is_err());
    }
}
