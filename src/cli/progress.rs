//! The CLI's watch over a build's phases: the progress line on stderr for
//! builds that take longer than about a second (SPEC §1), and the table of
//! `--timings`. The library tells which phase starts ([`crate::driver::Watch`]);
//! only this edge of the program reads the clock.

use std::fmt::Write as _;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Printer;

/// How long a build runs before the progress line shows.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// How often the progress line is redrawn once shown.
const REDRAW: Duration = Duration::from_millis(100);

/// One phase as it ran: its name, what it counts and how many, when it
/// started, and the process's CPU time and resident memory then (with `--timings`).
#[derive(Clone, Debug)]
struct Step {
    name: &'static str,
    counts: &'static str,
    count: usize,
    start: Duration,
    cpu: Option<Duration>,
    memory: Option<Memory>,
}

/// The CPU time the process has used so far, on all its threads; `None`
/// where the system does not say. Beside a phase's wall time, how many cores
/// it kept busy.
fn cpu_time() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: a valid pointer to a timespec, which the call only writes.
        if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) } != 0 {
            return None;
        }
        Some(Duration::new(u64::try_from(now.tv_sec).ok()?, u32::try_from(now.tv_nsec).ok()?))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The process's CPU time and memory now, read only with `--timings` (the
/// progress line needs neither).
fn readings(timings: bool) -> (Option<Duration>, Option<Memory>) {
    if timings { (cpu_time(), Memory::now()) } else { (None, None) }
}

/// The process's resident memory and its peak so far, in KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Memory {
    resident: u64,
    peak: u64,
}

impl Memory {
    /// Read from `/proc/self/status` (`VmRSS`, `VmHWM`); `None` where there is none.
    fn now() -> Option<Memory> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name))?;
            line[name.len()..].trim().trim_end_matches("kB").trim().parse::<u64>().ok()
        };
        Some(Memory { resident: field("VmRSS:")?, peak: field("VmHWM:")? })
    }
}

/// What the progress thread and the build share.
#[derive(Debug)]
struct Shared {
    start: Instant,
    steps: Mutex<Vec<Step>>,
    /// Set when the build is done; the thread waits on it.
    done: Mutex<bool>,
    wake: Condvar,
}

/// The watch over one build: record each phase with [`Progress::phase`], end with [`Progress::finish`].
#[derive(Debug)]
pub struct Progress {
    shared: Arc<Shared>,
    line: Option<JoinHandle<bool>>,
    timings: bool,
    /// The process's CPU time when the build started (with `--timings`).
    cpu: Option<Duration>,
    printer: Printer,
}

impl Progress {
    /// Starts watching a build; the progress line shows after about a second,
    /// when the printer may show one. `timings`: print the table at the end.
    pub fn start(printer: &Printer, timings: bool) -> Progress {
        let shared = Arc::new(Shared {
            start: Instant::now(),
            steps: Mutex::new(Vec::new()),
            done: Mutex::new(false),
            wake: Condvar::new(),
        });
        let line = printer.shows_progress().then(|| {
            let (shared, printer) = (Arc::clone(&shared), *printer);
            std::thread::spawn(move || draw(&shared, &printer))
        });
        // The clock alone: the memory at the start is no phase's end.
        let cpu = timings.then(cpu_time).flatten();
        Progress { shared, line, timings, cpu, printer: *printer }
    }

    /// A phase starts, working on `count` things (`counts` says what they are).
    pub fn phase(&self, name: &'static str, count: usize, counts: &'static str) {
        let start = self.shared.start.elapsed();
        let (cpu, memory) = readings(self.timings);
        let mut steps = self.shared.steps.lock().unwrap_or_else(PoisonError::into_inner);
        steps.push(Step { name, counts, count, start, cpu, memory });
    }

    /// The build is done: the line is cleared, and the table printed when asked.
    pub fn finish(self) {
        let total = self.shared.start.elapsed();
        let (cpu, memory) = readings(self.timings);
        *self.shared.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(line) = self.line
            && line.join().unwrap_or(false)
        {
            self.printer.clear_progress();
        }
        if self.timings {
            let steps = self.shared.steps.lock().unwrap_or_else(PoisonError::into_inner);
            let end = End { wall: total, cpu: self.cpu.zip(cpu), memory };
            self.printer.report(&table(&steps, &end));
        }
    }
}

/// The progress thread: after [`SHOW_AFTER`], redraws the line every
/// [`REDRAW`] until the build is done. Whether it drew anything.
fn draw(shared: &Shared, printer: &Printer) -> bool {
    let mut drawn = false;
    let mut done = shared.done.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let elapsed = shared.start.elapsed();
        let wait = if elapsed < SHOW_AFTER { SHOW_AFTER - elapsed } else { REDRAW };
        done = shared.wake.wait_timeout(done, wait).unwrap_or_else(PoisonError::into_inner).0;
        if *done {
            return drawn;
        }
        let elapsed = shared.start.elapsed();
        if elapsed < SHOW_AFTER {
            continue;
        }
        let steps = shared.steps.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(step) = steps.last() {
            printer.progress(&line(step, elapsed));
            drawn = true;
        }
    }
}

/// The progress line: `building: layout (60,421 objects) 3.2s`.
fn line(step: &Step, elapsed: Duration) -> String {
    let count = if step.count > 0 { format!(" ({} {})", thousands(step.count), step.counts) } else { String::new() };
    format!("building: {}{count} {:.1}s", step.name, elapsed.as_secs_f64())
}

/// How the build ended: its wall time, the process's CPU time at its start
/// and end, and its memory then.
#[derive(Clone, Copy, Debug)]
struct End {
    wall: Duration,
    cpu: Option<(Duration, Duration)>,
    memory: Option<Memory>,
}

/// The `--timings` table: each phase's wall time, the CPU time of all the
/// process's threads during it (twice the wall time: two cores kept busy), its
/// share of the total, the resident memory at its end (where the system says
/// them) and its count; the last line gives the peak resident memory of the
/// whole build.
fn table(steps: &[Step], end: &End) -> String {
    let mut out = format!("{:<9} {:>9} {:>9} {:>7} {:>9}  count\n", "phase", "time", "cpu", "share", "memory");
    let total = end.wall;
    for (i, step) in steps.iter().enumerate() {
        let next = steps.get(i + 1);
        let took = next.map_or(total, |next| next.start).saturating_sub(step.start);
        let cpu_end = next.map_or(end.cpu.map(|(_, at_end)| at_end), |next| next.cpu);
        let cpu = between(step.cpu.zip(cpu_end));
        let share = if total.is_zero() { 0.0 } else { 100.0 * took.as_secs_f64() / total.as_secs_f64() };
        let memory = next.map_or(end.memory, |next| next.memory).map_or(String::new(), |m| mebibytes(m.resident));
        let count = if step.count > 0 { format!("{} {}", thousands(step.count), step.counts) } else { String::new() };
        let line = format!("{:<9} {:>9} {cpu:>9} {:>6.1}% {memory:>9}  {count}", step.name, millis(took), share);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let cpu = between(end.cpu);
    let peak = end.memory.map_or(String::new(), |m| format!("{} peak", mebibytes(m.peak)));
    let line = format!("{:<9} {:>9} {cpu:>9} {:>6.1}% {peak:>9}", "total", millis(total), 100.0);
    let _ = writeln!(out, "{}", line.trim_end());
    out
}

/// KiB as whole MiB: `512 MiB`.
fn mebibytes(kib: u64) -> String {
    format!("{} MiB", thousands(kib.div_ceil(1024) as usize))
}

/// The CPU time from one reading of the clock to another, or nothing where one is missing.
fn between(readings: Option<(Duration, Duration)>) -> String {
    readings.map_or(String::new(), |(from, to)| millis(to.saturating_sub(from)))
}

/// A duration in milliseconds, `12.34 ms` below 100 ms, else `1,234 ms`.
fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 100.0 { format!("{ms:.2} ms") } else { format!("{} ms", thousands(ms.round() as usize)) }
}

/// A count with thousands separators: `60,421`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &'static str, count: usize, ms: u64) -> Step {
        Step { name, counts: "files", count, start: Duration::from_millis(ms), cpu: None, memory: None }
    }

    /// A table's text from its lines.
    fn text(lines: &[&str]) -> String {
        lines.join("\n") + "\n"
    }

    /// The end of a build of `ms` milliseconds, its CPU time and memory unknown.
    fn end(ms: u64) -> End {
        End { wall: Duration::from_millis(ms), cpu: None, memory: None }
    }

    #[test]
    fn the_line_names_the_phase_and_its_count() {
        assert_eq!(
            line(&step("layout", 60_421, 0), Duration::from_millis(3_240)),
            "building: layout (60,421 files) 3.2s"
        );
        assert_eq!(line(&step("load", 0, 0), Duration::from_millis(1_000)), "building: load 1.0s");
    }

    #[test]
    fn the_table_gives_each_phase_the_time_to_the_next() {
        let table = table(&[step("load", 0, 0), step("seal", 1_000, 40)], &end(200));
        let lines = [
            "phase          time       cpu   share    memory  count",
            "load       40.00 ms             20.0%",
            "seal         160 ms             80.0%            1,000 files",
            "total        200 ms            100.0%",
        ];
        assert_eq!(table, text(&lines));
    }

    #[test]
    fn the_table_gives_the_memory_at_each_phase_end_and_the_peak() {
        let mut seal = step("seal", 1_000, 40);
        seal.memory = Some(Memory { resident: 10 * 1024, peak: 12 * 1024 });
        let memory = Memory { resident: 1_500 * 1024 + 1, peak: 2_048 * 1024 };
        let table = table(&[step("load", 0, 0), seal], &End { memory: Some(memory), ..end(200) });
        let lines = [
            "phase          time       cpu   share    memory  count",
            "load       40.00 ms             20.0%    10 MiB",
            "seal         160 ms             80.0% 1,501 MiB  1,000 files",
            "total        200 ms            100.0% 2,048 MiB peak",
        ];
        assert_eq!(table, text(&lines));
    }

    #[test]
    fn the_table_gives_the_cpu_time_of_each_phase() {
        // The process had used 5 ms before the build; load kept two cores busy.
        let at = |ms| Some(Duration::from_millis(ms));
        let load = Step { cpu: at(5), ..step("load", 0, 0) };
        let seal = Step { cpu: at(85), ..step("seal", 1_000, 40) };
        let table = table(&[load, seal], &End { cpu: at(5).zip(at(245)), ..end(200) });
        let lines = [
            "phase          time       cpu   share    memory  count",
            "load       40.00 ms  80.00 ms   20.0%",
            "seal         160 ms    160 ms   80.0%            1,000 files",
            "total        200 ms    240 ms  100.0%",
        ];
        assert_eq!(table, text(&lines));
    }

    #[test]
    fn this_process_cpu_time_is_read_on_linux_and_grows() {
        if cfg!(target_os = "linux") {
            let before = cpu_time().expect("CLOCK_PROCESS_CPUTIME_ID");
            let mut x = 0u64;
            for i in 0..2_000_000u64 {
                x = std::hint::black_box(x.wrapping_add(i));
            }
            assert!(cpu_time().expect("again") > before, "{x}");
        }
    }

    #[test]
    fn this_process_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let memory = Memory::now().expect("/proc/self/status");
            assert!(memory.resident > 0 && memory.peak >= memory.resident, "{memory:?}");
        }
    }
}
